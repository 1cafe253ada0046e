import type { Express, RequestHandler } from 'express';
import { Readiness } from '@chat/service-kit';
import type { ApiDeps, ApiPorts } from './api-deps.ts';
import { ROUTES } from './routes.ts';

/** Used until the process hands in its metrics exporter. */
const placeholderMetrics: RequestHandler = (_req, res) => {
  res.type('text/plain; version=0.0.4').send('# session-api metrics are not wired in this process\n');
};

/** Ready when PostgreSQL, Redis (live state and bus) and NATS (when given) answer. */
export function defaultReadiness(ports: Pick<ApiPorts, 'store' | 'state' | 'bus' | 'queue'>): Readiness {
  const readiness = new Readiness().add('postgres', () => ports.store.ping()).add('redis', () => ports.state.ping()).add('bus', () => ports.bus.ping());
  const queue = ports.queue;
  if (queue) readiness.add('nats', () => queue.ping());
  return readiness;
}

/** Liveness, readiness (false while draining or when a dependency does not answer) and metrics. */
export function registerHealthRoutes(app: Express, deps: ApiDeps): void {
  const readiness = deps.readiness ?? defaultReadiness(deps.ports);
  app.get(ROUTES.healthz, (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get(ROUTES.readyz, async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get(ROUTES.metrics, deps.metrics ?? placeholderMetrics);
}
