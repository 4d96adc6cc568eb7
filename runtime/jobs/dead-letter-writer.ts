/**
 * Writing dead letters, shared by job runners and durable event subscribers: the record keeps the
 * error, the attempts, the times, the original subject, headers and bytes of the message; it is
 * published to `<prefix>.dlq.<Type>` with a message id, so a dead-lettering that is interrupted
 * (and done again on the next delivery) stores one record.
 */
import { toWireError } from "../errors.js";
import type { JetStreamQueues, QueueMessage } from "../transport/jetstream-queue.js";
import type { DeadLetter, DeadLetterReason, DeadLetterSubscription } from "./envelope.js";
import { encodeDeadLetter } from "./envelope.js";
import type { JobNames } from "./names.js";

export interface DeadLetterFields {
  source?: "job" | "event";
  reason: DeadLetterReason;
  /** Actor type whose DLQ subject gets the record. */
  type: string;
  attempts: number;
  /** Name of the host writing it. */
  host: string;
  error: unknown;
  jobId?: string | undefined;
  actorId?: string | undefined;
  method?: string | undefined;
  subscription?: DeadLetterSubscription | undefined;
  replay?: { subject: string; data: Uint8Array } | undefined;
}

/** The dead letter of delivery `m`. */
export function deadLetterOf(m: QueueMessage, f: DeadLetterFields): DeadLetter {
  const wire = toWireError(f.error);
  const headers: Record<string, string> = {};
  if (m.headers) for (const k of m.headers.keys()) headers[k] = m.headers.get(k);
  return {
    v: 1,
    ...(f.source ? { source: f.source } : {}),
    reason: f.reason,
    jobId: f.jobId,
    type: f.type,
    actorId: f.actorId,
    method: f.method,
    error: {
      ...wire,
      stack: f.error instanceof Error && !("code" in f.error) ? f.error.stack : undefined,
    },
    attempts: f.attempts,
    enqueuedAtMs: m.storedAtMs,
    failedAtMs: Date.now(),
    host: f.host,
    originalSubject: m.subject,
    originalSeq: m.streamSeq,
    originalHeaders: headers,
    data: m.data,
    ...(f.subscription ? { subscription: f.subscription } : {}),
    ...(f.replay ? { replay: f.replay } : {}),
  };
}

/** Publishes `record` to its type's DLQ subject; rejects if JetStream did not store it. */
export async function publishDeadLetter(
  q: JetStreamQueues,
  names: JobNames,
  record: DeadLetter,
  msgId: string,
): Promise<void> {
  await q.publish(names.dlqSubject(record.type), encodeDeadLetter(record), { msgId });
}
