import { z } from 'zod';
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from './json-bounds.ts';

export const ANALYSIS_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type AnalysisState = (typeof ANALYSIS_STATES)[number];
export const MAX_FAILURE_REASON_CHARS = 500;

const reason = z.string().trim().min(1).max(MAX_FAILURE_REASON_CHARS).refine(isStorableText, { message: UNSTORABLE_TEXT_MESSAGE });
/** Percent done, 0 to 100. */
const progress = z.number().min(0).max(100);

/**
 * `PUT /api/chat/sessions/{id}/analysis-status` (admin or service token): the state of the
 * analysis the session belongs to. `progress` only while `running`, `reason` only when `failed`.
 */
export const analysisStatusBodySchema = z
  .discriminatedUnion('state', [
    z.strictObject({ state: z.literal('queued') }),
    z.strictObject({ state: z.literal('running'), progress: progress.optional() }),
    z.strictObject({ state: z.literal('done') }),
    z.strictObject({ state: z.literal('failed'), reason }),
  ])
  .meta({ id: 'AnalysisStatusBody' });
export type AnalysisStatusBody = z.infer<typeof analysisStatusBodySchema>;

/** The latest reported state, as stored and as the REST answer. */
export const analysisStatusSchema = z
  .object({
    sessionId: z.uuid(),
    state: z.enum(ANALYSIS_STATES),
    progress: z.number().optional(),
    reason: z.string().optional(),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'AnalysisStatus' });
export type AnalysisStatus = z.infer<typeof analysisStatusSchema>;

/** On the status socket: live on every change, and once on open when a state was reported. */
export const analysisStatusFrameSchema = analysisStatusSchema.extend({ type: z.literal('analysis_status') }).meta({ id: 'AnalysisStatusFrame' });
export type AnalysisStatusFrame = z.infer<typeof analysisStatusFrameSchema>;
