import { z } from 'zod';
import { feedServerFrameSchema } from './feed.ts';
import { chatServerFrameSchema, clientFrameSchema, statusServerFrameSchema } from './frames.ts';

export type JsonSchema = Record<string, unknown>;

/** JSON Schema (2020-12) of one frame of each `type`, as its zod schema validates it. */
export type FrameJsonSchemas = Record<string, JsonSchema>;

export interface ProtocolJsonSchemas {
  /** Client → server, on either socket. */
  client: FrameJsonSchemas;
  /** Server → client on `/ws/chat/{session_id}`. */
  chat: FrameJsonSchemas;
  /** Server → client on `/ws/status/{session_id}`. */
  status: FrameJsonSchemas;
  /** Server → client on `/ws/feed`. */
  feed: FrameJsonSchemas;
}

interface FrameUnion {
  options: readonly z.ZodObject<{ type: z.ZodLiteral<string> }>[];
}

function byType(union: FrameUnion): FrameJsonSchemas {
  return Object.fromEntries(union.options.map((frame) => [frame.shape.type.value, z.toJSONSchema(frame, { unrepresentable: 'any' }) as JsonSchema]));
}

/**
 * Every frame of the WebSocket protocol as JSON Schema, from the same zod schemas that validate
 * them: for the protocol document and for clients written in other languages.
 */
export function protocolJsonSchemas(): ProtocolJsonSchemas {
  return { client: byType(clientFrameSchema), chat: byType(chatServerFrameSchema), status: byType(statusServerFrameSchema), feed: byType(feedServerFrameSchema) };
}
