import { createVerifier } from '@chat/composition';
import { loadConfigOrExit } from '@chat/config';
import { closeRedis, connectRedis, RedisSessionState } from '@chat/redis';
import { JetStreamQueueConsumer, JetStreamSessionEvents, sessionEventStream } from '@chat/jetstream';
import { Lifecycle, Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { connect } from '@nats-io/transport-node';
import { JetStreamDeadLetters } from './dead-letters.ts';
import { redisMarks, UnreadOfflineWatcher } from './unread-offline-watcher.ts';
import { loadWebhookSettingsOrExit } from './webhook-endpoints.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookMetrics } from './webhook-metrics.ts';
import { WebhooksServer } from './webhooks-server.ts';

const config = loadConfigOrExit({ requireAuth: true });
const settings = loadWebhookSettingsOrExit(process.env);
const logger = createLogger('webhooks', config.logLevel);
const metrics = new WebhookMetrics();

const nc = await connect({ servers: [...config.natsServers], name: `webhooks-${config.instanceId}`, maxReconnectAttempts: -1, waitOnFirstConnect: true });
const deadLetters = await JetStreamDeadLetters.create(nc, settings.deadLetterStream);
const dispatcher = new WebhookDispatcher({ nc, queue: config.queue, endpoints: settings.endpoints, consumerPrefix: settings.consumerPrefix, deadLetters, metrics, logger });
const readiness = new Readiness().add('nats', () => nc.flush());

// member.unread_offline needs live state (members, presence, last connection) from Redis.
const watchUnread = settings.endpoints.some((endpoint) => endpoint.events.includes('member.unread_offline'));
const onRedisError = (error: Error) => logger.debug({ err: error }, 'redis connection error');
const state = watchUnread ? new RedisSessionState({ url: config.redisUrl, recentMessages: config.recentMessages, connectionName: `webhooks-state-${config.instanceId}`, onError: onRedisError }) : undefined;
const marksRedis = watchUnread ? connectRedis({ url: config.redisUrl, cluster: config.redisCluster, connectionName: `webhooks-marks-${config.instanceId}`, onError: onRedisError }) : undefined;
const watcher =
  state && marksRedis
    ? new UnreadOfflineWatcher({
        consumer: await JetStreamQueueConsumer.create(nc, { ...config.queue, consumer: `${settings.consumerPrefix}-unread`, batchSize: 500, startAt: 'new', onError: (error) => logger.warn({ err: error }, 'unread consumer failed; retrying') }),
        state,
        events: await JetStreamSessionEvents.create(nc, sessionEventStream(config.queue)),
        marks: redisMarks(marksRedis, `webhooks:unread-offline:${settings.consumerPrefix}`),
        minutes: settings.unreadOfflineMinutes,
        logger,
      })
    : undefined;
if (state) readiness.add('redis', () => state.ping());
const server = new WebhooksServer({ host: config.host, port: settings.port, readiness, metrics, deadLetters, verifier: createVerifier(config), endpoints: settings.endpoints });

// Stopped in reverse: readiness turns false, attempts in flight finish, then the server and the connection close.
const lifecycle = new Lifecycle(logger)
  .add({ name: 'nats', start: () => Promise.resolve(), stop: () => nc.close() })
  .add({
    name: 'redis',
    start: () => Promise.resolve(),
    stop: async () => {
      await Promise.allSettled([state?.close(), marksRedis === undefined ? undefined : closeRedis(marksRedis)]);
    },
  })
  .add(server)
  .add(dispatcher)
  .add(watcher ?? { name: 'unread-offline-watcher (off)', start: () => Promise.resolve(), stop: () => Promise.resolve() })
  .add({ name: 'draining', start: () => Promise.resolve(), stop: () => Promise.resolve(readiness.drain()) });
lifecycle.stopOnSignals();
await lifecycle.start();
logger.info({ port: server.port, endpoints: settings.endpoints.map((e) => e.id) }, 'webhooks running');
