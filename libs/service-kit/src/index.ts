export { Readiness, type Check, type ReadinessReport } from './readiness.ts';
export { handleHealthRoutes, sendJson, type MetricsHandler } from './health-routes.ts';
export { Lifecycle, type Part, type LifecycleLogger } from './lifecycle.ts';
export { createStaticSite, type HttpHandler } from './static-site.ts';
