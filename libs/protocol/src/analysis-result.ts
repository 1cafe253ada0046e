import { z } from 'zod';
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from './json-bounds.ts';

/**
 * A structured analysis result carried in a message's `metadata` (`kind: "analysis_result"`),
 * version 1. Clients that know it render a card; every other client shows the message's `body`,
 * which stays the plain-text fallback. Validated wherever a message enters (WebSocket and REST).
 */
export const ANALYSIS_RESULT_KIND = 'analysis_result';
export const ANALYSIS_RESULT_VERSION = 1;

export const ANALYSIS_RESULT_LIMITS = {
  titleChars: 200,
  summaryChars: 2000,
  figures: 12,
  labelChars: 80,
  unitChars: 16,
  columns: 8,
  rows: 20,
  cellChars: 200,
} as const;

const text = (max: number) => z.string().refine(isStorableText, { message: UNSTORABLE_TEXT_MESSAGE }).max(max);
const label = text(ANALYSIS_RESULT_LIMITS.labelChars).min(1);
const unit = text(ANALYSIS_RESULT_LIMITS.unitChars);
const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

export const analysisFigureSchema = z
  .strictObject({
    label,
    value: finite,
    unit: unit.optional(),
    /** The change since the previous run, in `deltaUnit` (or `unit` when absent). */
    delta: finite.optional(),
    deltaUnit: unit.optional(),
  })
  .meta({ id: 'AnalysisFigure' });

const cellSchema = z.union([text(ANALYSIS_RESULT_LIMITS.cellChars), finite, z.null()]);

export const analysisTableSchema = z
  .strictObject({
    columns: z.array(label).min(1).max(ANALYSIS_RESULT_LIMITS.columns),
    rows: z.array(z.array(cellSchema)).max(ANALYSIS_RESULT_LIMITS.rows),
  })
  .superRefine((table, ctx) => {
    for (const [index, row] of table.rows.entries()) {
      if (row.length !== table.columns.length) {
        ctx.addIssue({ code: 'custom', path: ['rows', index], message: `has ${row.length} cells; the table has ${table.columns.length} columns` });
      }
    }
  })
  .meta({ id: 'AnalysisTable' });

export const analysisLinkSchema = z
  .strictObject({
    label,
    /** An https URL into the analysis application; its host must be on ANALYSIS_LINK_HOSTS. */
    url: z.url({ protocol: /^https$/, error: 'must be an https URL' }).max(2000),
  })
  .meta({ id: 'AnalysisLink' });

export const analysisResultSchema = z
  .strictObject({
    kind: z.literal(ANALYSIS_RESULT_KIND),
    version: z.literal(ANALYSIS_RESULT_VERSION, { error: `version must be ${ANALYSIS_RESULT_VERSION}` }),
    title: text(ANALYSIS_RESULT_LIMITS.titleChars).min(1),
    summary: text(ANALYSIS_RESULT_LIMITS.summaryChars).optional(),
    figures: z.array(analysisFigureSchema).max(ANALYSIS_RESULT_LIMITS.figures).optional(),
    table: analysisTableSchema.optional(),
    link: analysisLinkSchema.optional(),
    /** The analysis the result belongs to, as the finance backend names it. */
    analysisId: text(200).optional(),
  })
  .meta({ id: 'AnalysisResult', description: 'Message metadata of a structured analysis result (version 1); `body` stays the plain-text fallback.' });
export type AnalysisResult = z.infer<typeof analysisResultSchema>;

/** Whether metadata claims to be an analysis result, and so must follow the schema. */
export function claimsAnalysisResult(metadata: Record<string, unknown> | undefined): boolean {
  return metadata?.['kind'] === ANALYSIS_RESULT_KIND;
}

/** The first issue of metadata that claims to be a result and breaks the schema, as `path: message`. */
export function analysisResultIssue(metadata: Record<string, unknown>): { path: (string | number)[]; message: string } | undefined {
  if (!claimsAnalysisResult(metadata)) return undefined;
  const parsed = analysisResultSchema.safeParse(metadata);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return { path: (issue?.path ?? []).filter((part): part is string | number => typeof part !== 'symbol'), message: issue?.message ?? 'not a valid analysis result' };
}

/**
 * Why a result's link may not be sent (its host is not on the allow-list), or undefined. Hosts
 * compare exactly, in lower case, without the port: `app.example.com` allows only that host.
 */
export function analysisLinkRefusal(metadata: Record<string, unknown> | undefined, allowedHosts: readonly string[]): string | undefined {
  if (!claimsAnalysisResult(metadata)) return undefined;
  const link = metadata?.['link'];
  if (typeof link !== 'object' || link === null) return undefined;
  const url = (link as Record<string, unknown>)['url'];
  if (typeof url !== 'string') return undefined;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'metadata.link.url: not a URL';
  }
  if (allowedHosts.some((allowed) => allowed.toLowerCase() === host)) return undefined;
  return `metadata.link.url: the host ${host.slice(0, 100)} is not on the list of analysis hosts`;
}
