/**
 * Writing dead letters, shared by job runners and durable event subscribers: the record keeps the
 * error, the attempts, the times, the original subject, headers and bytes of the message; it is
 * published to `<prefix>.dlq.<Type>` with a message id, so a dead-lettering that is interrupted
 * (and done again on the next delivery) stores one record.
 */
import { PayloadTooLargeError, toWireError } from "../errors.js";
import type { JobNames } from "../messaging/index.js";
import { encode } from "../messaging/index.js";
import type { JetStreamQueues, QueueMessage } from "../transport/index.js";
import type { DeadLetter, DeadLetterReason, DeadLetterSubscription } from "./dead-letter.js";
import { encodeDeadLetter } from "./dead-letter.js";

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

/** Error messages longer than this are cut when a dead letter must be slimmed to fit. */
export const SLIM_ERROR_MESSAGE_CHARS = 1024;

/**
 * Publishes `record` to its type's DLQ subject; rejects if JetStream did not store it. A record
 * larger than the server accepts (the original message near max_payload, plus the error) is sent
 * again without the error's stack, with its message cut to 1024 characters and its details dropped
 * if they are larger than that, listed in `omitted`: the original bytes are what a replay needs,
 * so they are never cut.
 *
 * @throws PayloadTooLargeError when even the slimmed record does not fit: the original message
 *   leaves no room for a dead letter around it. It must stay where it is (see the callers).
 */
export async function publishDeadLetter(
  q: JetStreamQueues,
  names: JobNames,
  record: DeadLetter,
  msgId: string,
): Promise<void> {
  const subject = names.dlqSubject(record.type);
  try {
    await q.publish(subject, encodeDeadLetter(record), { msgId });
    return;
  } catch (err) {
    if (!(err instanceof PayloadTooLargeError)) throw err;
  }
  const slim = slimDeadLetter(record);
  try {
    await q.publish(subject, encodeDeadLetter(slim), { msgId });
  } catch (err) {
    if (!(err instanceof PayloadTooLargeError)) throw err;
    throw new PayloadTooLargeError(
      `the dead letter of a ${record.data.length}-byte message cannot be stored: even without the error's stack and details it exceeds the server's max_payload`,
      { cause: err, details: { ...err.details, originalBytes: record.data.length } },
    );
  }
}

/**
 * When to try a failed dead-lettering again: after the first backoff delay, or, for a message no
 * dead letter can fit around (`tooLarge`, see {@link publishDeadLetter}), only after the longest:
 * retrying soon would fail the same way. Either way the message is not acked, so nothing is lost.
 */
export function redeliveryAfterFailedDeadLetter(
  err: unknown,
  backoff: { readonly initialDelayMs: number; readonly maxDelayMs: number },
): { tooLarge: boolean; delayMs: number } {
  const tooLarge = err instanceof PayloadTooLargeError;
  return { tooLarge, delayMs: tooLarge ? backoff.maxDelayMs : backoff.initialDelayMs };
}

/** The record without the error's stack, with its message cut and its details dropped if large. */
export function slimDeadLetter(record: DeadLetter): DeadLetter {
  const { stack, details, ...error } = record.error;
  const omitted: string[] = [];
  if (stack !== undefined) omitted.push("error.stack");
  let message = error.message;
  if (message.length > SLIM_ERROR_MESSAGE_CHARS) {
    message = `${message.slice(0, SLIM_ERROR_MESSAGE_CHARS)}…`;
    omitted.push(`error.message past ${SLIM_ERROR_MESSAGE_CHARS} characters`);
  }
  const keepDetails = details !== undefined && encode(details).length <= SLIM_ERROR_MESSAGE_CHARS;
  if (details !== undefined && !keepDetails) omitted.push("error.details");
  return { ...record, error: { ...error, message, ...(keepDetails ? { details } : {}) }, omitted };
}
