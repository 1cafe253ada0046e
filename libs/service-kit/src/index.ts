export { Readiness, type Check, type ReadinessReport } from './readiness.ts';
export { handleHealthRoutes, healthHandler, sendJson, type HealthHandlerOptions, type MetricsHandler } from './health-routes.ts';
export { HttpListener, type HttpListenerOptions } from './http-listener.ts';
export { Lifecycle, type Part, type LifecycleLogger } from './lifecycle.ts';
export { createStaticSite, WEB_CONFIG_PATH, type HttpHandler } from './static-site.ts';
export { API_CONTENT_SECURITY_POLICY, API_SECURITY_HEADERS, contentSecurityPolicy, SAME_ORIGIN_POLICY, servedWebConfig, webSecurityHeaders, type WebPolicy } from './web-policy.ts';
