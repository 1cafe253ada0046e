import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ChatError, ERROR_CODES, METADATA_TOO_LARGE, type ErrorBody, type ErrorCode } from '@chat/protocol';
import { HistorySourceError, type HistorySource } from '@chat/core';
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
  // Metadata over its byte limit is "too large", as on the socket; every other issue is invalid input.
  const tooLarge = issue?.code === 'custom' && issue.params?.['reason'] === METADATA_TOO_LARGE;
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

const HISTORY_SOURCES: Record<HistorySource, string> = { store: 'The store', recent: 'Live session state', queue: 'The queue' };

/** As fromDependency, for a history read: the source that failed is the dependency named. */
export async function fromHistory<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof HistorySourceError)) throw error;
    throw new ChatError('unavailable', `${HISTORY_SOURCES[error.source]} is unavailable; try again.`, { cause: error.cause });
  }
}

export const routeNotFound: RequestHandler = (_req, res) => {
  sendError(res, 'route_not_found');
};

/** An error raised by express, its router or body-parser (http-errors shape): a `status`, and a `type` from body-parser. */
interface HttpLayerError {
  status: number;
  type?: string;
}

function isHttpLayerError(error: unknown): error is HttpLayerError {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/**
 * What the framework's own 4xx errors mean in the contract's codes. A path that does not decode
 * (`/api/chat/sessions/%`) is the router's 400; a body is refused by body-parser before any handler.
 */
function contractCodeOf(error: HttpLayerError): { code: ErrorCode; message: string } | undefined {
  if (error.status >= 500 || error.status < 400) return undefined;
  switch (error.type) {
    case 'entity.too.large':
      return { code: 'too_large', message: 'The request body is larger than the limit.' };
    case 'entity.parse.failed':
      return { code: 'invalid_input', message: 'The request body is not valid JSON.' };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { code: 'invalid_input', message: 'The request body must be JSON in UTF-8, without content encoding.' };
    case undefined:
      if (error instanceof URIError) return { code: 'invalid_input', message: 'The path is not valid percent-encoding.' };
      if (error.status === 404) return { code: 'route_not_found', message: ERROR_CODES.route_not_found.message };
      if (error.status === 413) return { code: 'too_large', message: ERROR_CODES.too_large.message };
      return { code: 'invalid_input', message: ERROR_CODES.invalid_input.message };
    default:
      return { code: 'invalid_input', message: 'The request body could not be read.' };
  }
}

/**
 * The one place an error becomes a response: always `{"error":{"code","message"}}` with the
 * registry's status. Only a fault of this process is a 5xx; anything a client sent is a 4xx.
 */
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
    const clientError = isHttpLayerError(error) ? contractCodeOf(error) : undefined;
    if (clientError !== undefined) {
      sendError(res, clientError.code, clientError.message);
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    sendError(res, 'internal');
  };
}
