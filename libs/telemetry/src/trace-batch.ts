import { SpanKind, type Attributes, type Link } from '@opentelemetry/api';
import { endSpanWithError, linkFromHeaders, startSpanFromHeaders, tracerSamplesNothing, withSpan, type HeaderSource } from './trace-context.ts';

/**
 * Runs a batch write so each message keeps its own trace: one `name` span per message, a child
 * of the context in that message's headers (the gateway's send span), plus one active
 * `name batch` span linked to all of them, under which the write's own client spans appear.
 * Every span ends when `write` settles, failed if it rejects. While the sampler records nothing,
 * no span is made and the headers (which may be given as a function) are not even read.
 */
export async function traceBatch<T>(
  name: string,
  headers: readonly HeaderSource[] | (() => readonly HeaderSource[]),
  write: () => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  // Each span would be unrecorded: building them cost the persister a tenth of its time per message.
  if (tracerSamplesNothing()) return write();
  const headersOfEach = typeof headers === 'function' ? headers() : headers;
  const messageSpans = headersOfEach.map((headers) => startSpanFromHeaders(name, headers, { attributes }));
  const links = headersOfEach.map((headers) => linkFromHeaders(headers)).filter((link): link is Link => link !== undefined);
  try {
    const result = await withSpan(`${name} batch`, write, {
      kind: SpanKind.INTERNAL,
      links,
      attributes: { ...attributes, 'messaging.batch.message_count': headersOfEach.length },
    });
    for (const span of messageSpans) span.end();
    return result;
  } catch (error) {
    for (const span of messageSpans) endSpanWithError(span, error);
    throw error;
  }
}
