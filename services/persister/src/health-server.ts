import { healthHandler, HttpListener, type MetricsHandler, type Readiness } from '@chat/service-kit';

export interface HealthServerOptions {
  host: string;
  port: number;
  readiness: Readiness;
  metrics?: MetricsHandler;
}

/** /healthz, /readyz and /metrics on PERSISTER_PORT; the persister serves nothing else. */
export function createHealthServer(options: HealthServerOptions): HttpListener {
  const handler = healthHandler({ readiness: options.readiness, ...(options.metrics ? { metrics: options.metrics } : {}) });
  return new HttpListener({ name: 'health-server', host: options.host, port: options.port, handler });
}
