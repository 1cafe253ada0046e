import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export interface StreamOptions {
  /** Stream name (NATS_STREAM). */
  stream: string;
  /** Messages go to `<subjectPrefix>.<sessionId>` (NATS_SUBJECT_PREFIX). */
  subjectPrefix: string;
  /** NATS_STREAM_REPLICAS; 3 on a cluster makes a PubAck survive a node's loss. */
  replicas: number;
}

const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export function sessionSubject(subjectPrefix: string, sessionId: string): string {
  return `${subjectPrefix}.${sessionId}`;
}

function desiredConfig(options: StreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: options.stream,
    subjects: [`${options.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(MAX_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: options.replicas,
  };
}

/**
 * Creates the stream, or brings the settings we own up to date on an existing one; several
 * processes may call it at once.
 */
export async function ensureStream(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  const desired = desiredConfig(options);
  try {
    const { config } = await jsm.streams.info(options.stream);
    const current = { subjects: config.subjects, max_age: config.max_age, duplicate_window: config.duplicate_window, num_replicas: config.num_replicas };
    const wanted = { subjects: desired.subjects, max_age: desired.max_age, duplicate_window: desired.duplicate_window, num_replicas: desired.num_replicas };
    if (JSON.stringify(current) !== JSON.stringify(wanted)) await jsm.streams.update(options.stream, { ...config, ...wanted });
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    try {
      await jsm.streams.add(desired);
    } catch (addError) {
      // Another process created it between our two calls; that is the outcome we wanted.
      await jsm.streams.info(options.stream).catch(() => {
        throw addError;
      });
    }
  }
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}
