export { createApiApp, jsonLimitBytes } from './api-app.ts';
export type { ApiDeps, ApiPorts } from './api-deps.ts';
export { buildOpenApiDocument } from './openapi-document.ts';
export { ROUTES } from './routes.ts';
export { defaultReadiness } from './health-routes.ts';
export { ApiServer, type ApiServerOptions } from './api-server.ts';
export { MessageRateLimiter, type RateDecision, type RateLimitOptions } from './message-rate-limiter.ts';
