import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '@chat/config';
import type { ChatStore } from '@chat/core';
import { createChatSwitch, createEmbeddedBackend, createVerifier } from '@chat/composition';
import { Gateway, type GatewayTuning } from '@chat/gateway';
import { Persister, persisterMetrics } from '@chat/persister';
import { createApiApp } from '@chat/session-api';
import type { Logger, Telemetry } from '@chat/telemetry';
import { createDevSignIn } from './dev-sign-in.ts';
import { createStaticSite } from '@chat/service-kit';

export interface EmbeddedChatOptions {
  config: Config;
  logger: Logger;
  /** Keep data in DATA_DIR across restarts (the command) or in memory (tests). */
  persistent: boolean;
  /** Gateways in this process; more than one shows fan-out between replicas. Default 1. */
  gateways?: number;
  /** Port of the first gateway (0 picks free ports); later ones take free ports. */
  port?: number;
  webRoot?: string;
  tuning?: Partial<GatewayTuning>;
  /** Serves /metrics like the services do; only one per process, so tests running several chats leave it out. */
  telemetry?: Pick<Telemetry, 'metrics' | 'handleMetrics'>;
}

export interface EmbeddedChat {
  /** Where the first gateway answers: the UI, the REST API and the WebSockets. */
  readonly url: string;
  readonly gatewayUrls: readonly string[];
  /** The embedded database, for tests and tools that check what was persisted. */
  readonly store: ChatStore;
  stop(): Promise<void>;
}

/**
 * Gateway, session-api and persister in one process on the in-process ports and PGlite. Every
 * gateway serves the REST API and the UI too, so one address is all a browser needs.
 */
export async function startEmbeddedChat(options: EmbeddedChatOptions): Promise<EmbeddedChat> {
  const { config, logger } = options;
  const backend = await createEmbeddedBackend(config, { persistent: options.persistent });
  const verifier = createVerifier(config);
  const { state, store } = backend;

  const telemetry = options.telemetry;
  const gatewayMetrics = telemetry === undefined ? {} : { metricsHandler: telemetry.handleMetrics, metrics: telemetry.metrics };
  // One switch for every part of the process; CHAT_DISABLED holds it off.
  const chatSwitch = createChatSwitch(config, backend);
  await chatSwitch.start();
  // The one backend's rate limiter and connection slots count each user once for the whole process: every gateway and the API.
  const api = createApiApp({ config, verifier, ports: backend, logger, chatSwitch, ...(telemetry === undefined ? {} : { metrics: telemetry.handleMetrics }) });
  const devSignIn = config.devSignIn && config.jwt.secret !== undefined ? createDevSignIn({ secret: config.jwt.secret, store, state, allowedOrigins: config.allowedOrigins }) : undefined;
  const site = createStaticSite(options.webRoot ?? config.webRoot ?? join(import.meta.dirname, '..', '..', 'web', 'dist'), config.web);
  const fallback = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/api/') || path === '/openapi.json' || path === '/status') {
      api(req, res);
      return;
    }
    if (devSignIn && path === '/dev/token') return devSignIn(req, res);
    return site(req, res);
  };

  const persister = new Persister({ consumer: await backend.consumer(), store, deadLetters: backend.deadLetters, logger, ...(telemetry === undefined ? {} : { metrics: persisterMetrics(telemetry.metrics) }) });
  const persisting = new AbortController();
  const gateways = Array.from({ length: options.gateways ?? 1 }, (_, index) => {
    // Each gateway has a bus of its own on the process's hub, as replicas have their own connections.
    const ports = index === 0 ? backend : { ...backend, bus: backend.newBus() };
    return new Gateway({
      config,
      verifier,
      ports,
      logger,
      fallback,
      ...gatewayMetrics,
      chatSwitch,
      port: index === 0 ? (options.port ?? config.ports.gateway) : 0,
      ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
    });
  });

  const persisted = persister.run(persisting.signal);
  for (const gateway of gateways) await gateway.start();
  const gatewayUrls = gateways.map((gateway) => `http://127.0.0.1:${gateway.address().port}`);
  return {
    url: gatewayUrls[0] ?? '',
    gatewayUrls,
    store,
    stop: async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      chatSwitch.stop();
      // Nothing new arrives once the gateways are down; the persister finishes its batch, then the store closes.
      await waitUntilDrained(backend);
      persisting.abort();
      await persisted;
      await backend.close();
    },
  };
}

/** Gives the persister a moment to write what the in-process queue still holds, so a restart loses nothing. */
async function waitUntilDrained(backend: { consumer(): Promise<{ pending(): Promise<number> }> }, timeoutMs = 5_000): Promise<void> {
  const consumer = await backend.consumer();
  const deadline = Date.now() + timeoutMs;
  while ((await consumer.pending()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
