import express, { type RequestHandler } from 'express';
import { ChatError, describeViolation, findJsonBoundsViolation, type JsonBounds } from '@chat/protocol';

export interface BodyBounds {
  /** Bytes of the body as sent (and after inflating, for a compressed one). */
  limitBytes: number;
  /** Nesting depth and keys plus elements of the parsed value, and text the store can keep. */
  json: Readonly<JsonBounds>;
}

/**
 * Reads a JSON body in the order that keeps hostile input cheap: its size in bytes first (the
 * parser stops reading past the limit), then its depth, entries and text, walked without
 * recursion; only a body within all three reaches the schema and anything recursive.
 */
export function boundedJson(bounds: BodyBounds): RequestHandler {
  const withinBounds: RequestHandler = (req, _res, next) => {
    const found = findJsonBoundsViolation(req.body, bounds.json);
    next(found ? new ChatError('invalid_input', `body: ${describeViolation(found)}`) : undefined);
  };
  return express.Router().use(express.json({ limit: bounds.limitBytes, strict: true }), withinBounds);
}
