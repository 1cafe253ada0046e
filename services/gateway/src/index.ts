export { Gateway, DEFAULT_TUNING, type GatewayDeps, type GatewayPorts, type GatewayTuning, type HttpHandler } from './gateway.ts';
export type { GatewayLogger } from './gateway-logger.ts';
