import { CLOSE_CODES, closeCodeMeaning, ERROR_CODES, protocolJsonSchemas, shouldReconnect, type FrameJsonSchemas, type JsonSchema } from '@chat/protocol';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_CHARS,
  FEED_PREVIEW_CHARS,
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  MAX_CLIENT_MSG_ID_CHARS,
  MAX_FEED_SESSIONS,
  MAX_MEMBERS_PER_REQUEST,
  MAX_METADATA_BYTES,
  MAX_TITLE_CHARS,
} from '@chat/protocol';
import { buildOpenApiDocument } from '@chat/session-api';

/**
 * The parts of docs/protocol.md that are written from the code: the close-code and error-code
 * registries, the frame schemas and the REST operations. Each stands between two markers; the
 * prose around them is written by hand.
 */

const begin = (name: string) => `<!-- generated: ${name} (pnpm docs:protocol) -->`;
const end = (name: string) => `<!-- end of generated: ${name} -->`;

type Row = readonly (string | number)[];

function table(header: Row, rows: readonly Row[]): string {
  const line = (row: Row) => `| ${row.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (text: string | number) => `\`${text}\``;

function closeCodes(): string {
  const endedBy = (close: number) =>
    Object.entries(ERROR_CODES)
      .filter(([, entry]) => 'close' in entry && entry.close === close)
      .map(([name]) => code(name))
      .join(', ');
  const rows = Object.entries(CLOSE_CODES)
    .sort(([, a], [, b]) => a - b)
    .map(([name, close]) => [code(close), code(name), closeCodeMeaning(close), shouldReconnect(close) ? 'yes' : 'no', endedBy(close) || '—']);
  return table(['close code', 'registry name', 'what it means', 'client reconnects', 'error code'], rows);
}

function errorCodes(): string {
  const rows = Object.entries(ERROR_CODES).map(([name, entry]) => [code(name), entry.status, 'close' in entry ? code(entry.close) : '—', entry.message]);
  return table(['error code', 'HTTP status', 'close code', 'message'], rows);
}

function limits(): string {
  return table(
    ['limit', 'value'],
    [
      ['message body (default of `MAX_MESSAGE_CHARS`), code points', DEFAULT_MAX_MESSAGE_CHARS],
      ['WebSocket frame (default of `MAX_FRAME_BYTES`), bytes', DEFAULT_MAX_FRAME_BYTES],
      ['`metadata` as JSON, bytes', MAX_METADATA_BYTES],
      ['`clientMsgId`, characters', MAX_CLIENT_MSG_ID_CHARS],
      ['session title, characters', MAX_TITLE_CHARS],
      ['user ids in one request', MAX_MEMBERS_PER_REQUEST],
      ['history page: default `limit`', HISTORY_DEFAULT_LIMIT],
      ['history page: largest `limit`', HISTORY_MAX_LIMIT],
      ['`feed_message` preview, code points', FEED_PREVIEW_CHARS],
      ['sessions one feed follows', MAX_FEED_SESSIONS],
    ],
  );
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const name = ref.replace(/^#\/(\$defs|components\/schemas)\//, '');
  const defs = (root['$defs'] ?? {}) as Record<string, JsonSchema>;
  const found = defs[name];
  return found ? { ...resolve(found, root), title: name } : schema;
}

/** `1 to 64 characters`, `at most 1000 items`, `not empty`; undefined when unbounded. */
function range(schema: JsonSchema, min: string, max: string, unit: string): string | undefined {
  const low = schema[min];
  const high = schema[max];
  if (typeof low === 'number' && typeof high === 'number') return `${low} to ${high} ${unit}`;
  if (low === 1) return 'not empty';
  if (typeof low === 'number') return `at least ${low} ${unit}`;
  if (typeof high === 'number') return `at most ${high} ${unit}`;
  return undefined;
}

function withRange(shape: string, bounds: string | undefined): string {
  return bounds === undefined ? shape : `${shape}, ${bounds}`;
}

/** A field's JSON Schema in a few words: `UUID`, `integer > 0`, `"send"`. */
export function describeType(raw: JsonSchema, root: JsonSchema): string {
  const schema = resolve(raw, root);
  if ('const' in schema) return code(JSON.stringify(schema['const']));
  if (Array.isArray(schema['enum'])) return (schema['enum'] as unknown[]).map((value) => code(JSON.stringify(value))).join(' or ');
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as JsonSchema[]).map((option) => describeType(option, root)).join(' or ');
  const type = schema['type'];
  if (Array.isArray(type)) return (type as unknown[]).map((one) => describeType({ ...schema, type: one }, root)).join(' or ');
  switch (type) {
    case 'string': {
      const format = schema['format'];
      const shape = format === 'uuid' ? 'UUID' : format === 'date-time' ? 'ISO-8601 date-time' : 'string';
      return withRange(shape, range(schema, 'minLength', 'maxLength', 'characters'));
    }
    case 'integer':
    case 'number': {
      const floor = typeof schema['exclusiveMinimum'] === 'number' ? `> ${schema['exclusiveMinimum']}` : typeof schema['minimum'] === 'number' ? `≥ ${schema['minimum']}` : '';
      return floor ? `${type} ${floor}` : type;
    }
    case 'array':
      return withRange(`array of ${describeType((schema['items'] ?? {}) as JsonSchema, root)}`, range(schema, 'minItems', 'maxItems', 'items'));
    case 'object': {
      const title = schema['title'];
      if (typeof title === 'string') return `object (${title})`;
      const values = schema['additionalProperties'];
      if (typeof values === 'object' && values !== null && Object.keys(values).length > 0) return `object of ${describeType(values as JsonSchema, root)}`;
      return 'object';
    }
    case 'boolean':
    case 'null':
      return type;
    default:
      return 'any JSON';
  }
}

/** One table of a frame's or body's fields: name, type, whether required, description. */
export function fieldTable(raw: JsonSchema): string {
  const schema = resolve(raw, raw);
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  const rows = Object.entries(properties).map(([name, field]) => {
    const described = resolve(field, raw);
    const description = typeof described['description'] === 'string' ? described['description'] : '';
    return [code(name), describeType(field, raw), required.has(name) ? 'yes' : 'no', description];
  });
  return table(['field', 'type', 'required', 'notes'], rows);
}

function frames(schemas: FrameJsonSchemas): string {
  return Object.entries(schemas)
    .map(([type, schema]) => `#### \`${type}\`\n\n${fieldTable(schema)}`)
    .join('\n\n');
}

interface Operation {
  summary?: string;
  security?: unknown[];
  responses?: Record<string, unknown>;
}

function restOperations(): string {
  const document = buildOpenApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
  const rows: Row[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const statuses = Object.keys(operation.responses ?? {});
      const success = statuses.filter((status) => status.startsWith('2')).join(', ');
      const failures = statuses.filter((status) => !status.startsWith('2')).join(', ');
      const token = operation.security?.length === 0 ? 'none' : 'Bearer JWT';
      rows.push([`${code(method.toUpperCase())} ${code(path)}`, token, success, failures || '—', operation.summary ?? '']);
    }
  }
  return table(['request', 'token', 'success', 'errors', 'what it does'], rows);
}

function restBodies(): string {
  const document = buildOpenApiDocument() as unknown as { components?: { schemas?: Record<string, JsonSchema> } };
  const schemas = document.components?.schemas ?? {};
  const root = { $defs: schemas };
  return Object.entries(schemas)
    .filter(([, schema]) => schema['type'] === 'object' && schema['properties'] !== undefined)
    .map(([name, schema]) => `#### \`${name}\`\n\n${fieldTable({ ...root, ...schema })}`)
    .join('\n\n');
}

/** Every generated part of docs/protocol.md, by marker name. */
export function renderProtocolSections(): Map<string, string> {
  const frameSchemas = protocolJsonSchemas();
  return new Map([
    ['rest-operations', restOperations()],
    ['rest-bodies', restBodies()],
    ['client-frames', frames(frameSchemas.client)],
    ['chat-frames', frames(frameSchemas.chat)],
    ['status-frames', frames(frameSchemas.status)],
    ['feed-frames', frames(frameSchemas.feed)],
    ['close-codes', closeCodes()],
    ['error-codes', errorCodes()],
    ['limits', limits()],
  ]);
}

/** The document with each generated part replaced by `sections`; throws when a marker is missing. */
export function fillProtocolSections(document: string, sections: Map<string, string>): string {
  let result = document;
  for (const [name, body] of sections) {
    const from = result.indexOf(begin(name));
    const to = result.indexOf(end(name));
    if (from < 0 || to < from) throw new Error(`docs/protocol.md has no markers for the generated part "${name}": ${begin(name)} … ${end(name)}`);
    result = `${result.slice(0, from)}${begin(name)}\n\n${body}\n\n${result.slice(to)}`;
  }
  return result;
}
