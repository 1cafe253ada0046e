import type { FrameLabels, RouteLabels, WsRoute } from '@chat/telemetry';

/**
 * Attribute sets of the metrics every connect records, made once per value: a record then passes
 * the same object instead of building one per call. Only for labels with a fixed set of values.
 */
const byRoute = new Map<WsRoute, Readonly<RouteLabels>>();
const byFrameType = new Map<string, Readonly<FrameLabels>>();

export function routeLabels(route: WsRoute): Readonly<RouteLabels> {
  let labels = byRoute.get(route);
  if (labels === undefined) byRoute.set(route, (labels = Object.freeze({ route })));
  return labels;
}

/** `type` is one of the frame types the gateway writes (a fixed set in the code, never client input). */
export function frameTypeLabels(type: string): Readonly<FrameLabels> {
  let labels = byFrameType.get(type);
  if (labels === undefined) byFrameType.set(type, (labels = Object.freeze({ type })));
  return labels;
}
