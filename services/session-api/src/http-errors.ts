import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ChatError, type ErrorBody, type ErrorCode } from '@chat/protocol';
import { chatMetrics, type Logger } from '@chat/telemetry';
import type { z } from 'zod';

export function sendError(res: Response, code: ErrorCode, message?: string): void {
  const error = new ChatError(code, message);
  chatMetrics().errors.add(1, { code });
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  res.status(error.status).json(body);
}

/** Parses input with a schema, turning the first issue into a 400 that names the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // Metadata only fails its custom check when it is over its byte limit: that is "too large", as on the socket.
  const tooLarge = issue?.code === 'custom' && issue.path[0] === 'metadata';
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new ChatError(tooLarge ? 'too_large' : 'invalid_input', `${what}: ${where}${issue?.message ?? 'invalid'}`);
}

/** Turns a failing call to the store, Redis or NATS into `unavailable` (503), keeping the cause for the log. */
export async function fromDependency<T>(dependency: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (cause) {
    if (cause instanceof ChatError) throw cause;
    throw new ChatError('unavailable', `${dependency} is unavailable; try again.`, { cause });
  }
}

export const routeNotFound: RequestHandler = (_req, res) => {
  sendError(res, 'route_not_found');
};

interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string' && typeof (error as { status?: unknown }).status === 'number';
}

/** The one place an error becomes a response: always `{"error":{"code","message"}}` with the registry's status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ChatError) {
      if (error.code === 'unavailable') logger.warn({ err: error.cause, method: req.method, path: req.path }, 'dependency unavailable');
      sendError(res, error.code, error.message);
      return;
    }
    if (isBodyParserError(error)) {
      if (error.type === 'entity.too.large') sendError(res, 'too_large', 'The request body is larger than the limit.');
      else if (error.type === 'entity.parse.failed') sendError(res, 'invalid_input', 'The request body is not valid JSON.');
      else sendError(res, 'invalid_input', 'The request body could not be read.');
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    sendError(res, 'internal');
  };
}
