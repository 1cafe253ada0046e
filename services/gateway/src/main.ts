import { createTokenVerifier } from '@chat/auth';
import { loadConfigOrExit } from '@chat/config';
import { JetStreamQueue, MessageIntake, RedisBus, RedisSessionState, SessionDirectory } from '@chat/core';
import { createDatabase, KyselyChatStore } from '@chat/db';
import { Lifecycle } from '@chat/service-kit';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { connect } from '@nats-io/transport-node';
import { Gateway } from './gateway.ts';

const config = loadConfigOrExit({ requireAuth: true });
const telemetry = startTelemetry({ serviceName: 'gateway', instanceId: config.instanceId });
const logger = createLogger('gateway', config.logLevel);
const onRedisError = (error: Error) => logger.debug({ err: error }, 'redis connection error');

const state = new RedisSessionState({ url: config.redisUrl, recentMessages: config.recentMessages, connectionName: `gateway-state-${config.instanceId}`, onError: onRedisError });
const bus = new RedisBus({ url: config.redisUrl, connectionName: `gateway-bus-${config.instanceId}`, onError: onRedisError });
const nats = await connect({ servers: config.natsUrl, name: `gateway-${config.instanceId}`, maxReconnectAttempts: -1 });
const queue = await JetStreamQueue.create(nats, { stream: config.queue.stream, subjectPrefix: config.queue.subjectPrefix, replicas: config.queue.replicas });
const store = new KyselyChatStore(createDatabase({ kind: 'postgres', url: config.databaseUrl }));
const directory = new SessionDirectory({ state, store, queue });
const intake = new MessageIntake({ state, queue, bus, directory });
const verifier = createTokenVerifier({
  ...(config.jwt.secret === undefined ? {} : { secret: config.jwt.secret }),
  ...(config.jwt.jwksUrl === undefined ? {} : { jwksUrl: config.jwt.jwksUrl }),
  ...(config.jwt.issuer === undefined ? {} : { issuer: config.jwt.issuer }),
  ...(config.jwt.audience === undefined ? {} : { audience: config.jwt.audience }),
});

const gateway = new Gateway({ config, verifier, state, bus, intake, directory, store, queue, logger, metricsHandler: (req, res) => telemetry.handleMetrics(req, res), metrics: telemetry.metrics });

// Stopped in reverse: the gateway drains first, then the clients it used, then telemetry flushes.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'telemetry', start: () => Promise.resolve(), stop: () => telemetry.shutdown() })
  .add({ name: 'dependencies', start: () => Promise.resolve(), stop: async () => {
      await Promise.allSettled([state.close(), bus.close(), queue.close(), store.close()]);
    },
  })
  .add(gateway);
lifecycle.stopOnSignals();
await lifecycle.start();
