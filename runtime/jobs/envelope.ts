/**
 * Wire formats of durable jobs (msgpack arrays, versioned like the call envelope):
 *
 * - job:    `[1, jobId, actorId, method, args, timeoutMs, maxAttempts, keepResult]` (`keepResult` 1 or
 *   0; jobs stored before it existed have 7 elements and keep their result)
 * - result: `[1, status, valueOrError, attempts, finishedAtMs]`, status 0 = ok, 1 = dead-lettered
 * - dead letter: a map, see {@link DeadLetter}
 *
 * Everything decoded here is untrusted and validated.
 */
import { MalformedMessageError, type WireError } from "../errors.js";
import {
  type DecodeLimits,
  decode,
  encode,
  MAX_ACTOR_ID_LENGTH,
  MAX_METHOD_LENGTH,
} from "../messaging/index.js";
import { isJobId } from "./names.js";

export const JOB_VERSION = 1;

export interface JobEnvelope {
  jobId: string;
  actorId: string;
  method: string;
  args: unknown[];
  /** Deadline of one attempt (the turn), ms. */
  timeoutMs: number;
  /** Attempts allowed; 0 = the runner's default. */
  maxAttempts: number;
  /** Store the outcome for `job.result()` (default true). */
  keepResult?: boolean;
}

export function encodeJob(j: JobEnvelope): Uint8Array {
  return encode([
    JOB_VERSION,
    j.jobId,
    j.actorId,
    j.method,
    j.args,
    j.timeoutMs,
    j.maxAttempts,
    j.keepResult === false ? 0 : 1,
  ]);
}

export function decodeJob(bytes: Uint8Array, limits?: Partial<DecodeLimits>): JobEnvelope {
  const raw = decode(bytes, limits);
  if (!Array.isArray(raw) || (raw.length !== 7 && raw.length !== 8) || raw[0] !== JOB_VERSION) {
    throw new MalformedMessageError("job envelope must be a version 1 array of 7 or 8 elements");
  }
  const [, jobId, actorId, method, args, timeoutMs, maxAttempts, keep = 1] = raw as unknown[];
  if (typeof jobId !== "string" || !isJobId(jobId)) throw new MalformedMessageError("bad job id");
  if (typeof actorId !== "string" || actorId.length === 0 || actorId.length > MAX_ACTOR_ID_LENGTH) {
    throw new MalformedMessageError("bad actor id");
  }
  if (typeof method !== "string" || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    throw new MalformedMessageError("bad method");
  }
  if (!Array.isArray(args)) throw new MalformedMessageError("job arguments must be an array");
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw new MalformedMessageError("bad timeout");
  if (typeof maxAttempts !== "number" || !Number.isInteger(maxAttempts) || maxAttempts < 0) {
    throw new MalformedMessageError("bad maxAttempts");
  }
  if (keep !== 0 && keep !== 1) throw new MalformedMessageError("bad keepResult");
  return { jobId, actorId, method, args, timeoutMs, maxAttempts, keepResult: keep === 1 };
}

export const RESULT_OK = 0;
export const RESULT_DEAD_LETTERED = 1;

export type JobOutcome =
  | { ok: true; value: unknown; attempts: number; finishedAtMs: number }
  | { ok: false; error: WireError; attempts: number; finishedAtMs: number };

export function encodeOutcome(o: JobOutcome): Uint8Array {
  return encode([
    JOB_VERSION,
    o.ok ? RESULT_OK : RESULT_DEAD_LETTERED,
    o.ok ? o.value : o.error,
    o.attempts,
    o.finishedAtMs,
  ]);
}

export function decodeOutcome(bytes: Uint8Array, limits?: Partial<DecodeLimits>): JobOutcome {
  const raw = decode(bytes, limits);
  if (!Array.isArray(raw) || raw.length !== 5 || raw[0] !== JOB_VERSION) {
    throw new MalformedMessageError("job result must be a version 1, 5-element array");
  }
  const [, status, body, attempts, finishedAtMs] = raw as unknown[];
  const a = typeof attempts === "number" ? attempts : 0;
  const f = typeof finishedAtMs === "number" ? finishedAtMs : 0;
  if (status === RESULT_OK) return { ok: true, value: body, attempts: a, finishedAtMs: f };
  if (status === RESULT_DEAD_LETTERED && typeof body === "object" && body !== null) {
    return { ok: false, error: body as WireError, attempts: a, finishedAtMs: f };
  }
  throw new MalformedMessageError(`unknown job result status ${String(status)}`);
}

import type { DeadLetterReason } from "../durable/index.js";

export type { DeadLetterReason };

/** The durable event subscription a dead-lettered event belongs to (see runtime/pubsub). */
export interface DeadLetterSubscription {
  /** Durable consumer name, `<Type>_<method>`. */
  name: string;
  /** The subscribed pattern (may hold wildcards). */
  pattern: string;
  /** The event's topic. */
  topic: string;
}

/**
 * What the DLQ stores about a failed job or event delivery. Enough to inspect it and to replay it
 * (a job: its original bytes; an event: `replay`, a job that delivers it to its one subscriber).
 */
export interface DeadLetter {
  v: number;
  /** What failed: a job (default, also when absent) or the delivery of an event to one subscriber. */
  source?: "job" | "event" | undefined;
  reason: DeadLetterReason;
  /** Undefined when the envelope could not be decoded. */
  jobId?: string | undefined;
  type: string;
  actorId?: string | undefined;
  method?: string | undefined;
  error: WireError & { stack?: string | undefined };
  /** Delivery attempts made (the JetStream delivery count of the last one). */
  attempts: number;
  /** When the job was first stored, ms since the epoch (server time). */
  enqueuedAtMs: number;
  /** When it was dead-lettered, ms since the epoch (runner's clock). */
  failedAtMs: number;
  /** Name of the host whose runner dead-lettered it. */
  host: string;
  originalSubject: string;
  originalSeq: number;
  originalHeaders: Record<string, string>;
  /** The original message's bytes, unchanged (a job envelope, or an event's payload). */
  data: Uint8Array;
  /** Events only: the subscriber it failed for. */
  subscription?: DeadLetterSubscription | undefined;
  /**
   * What a replay publishes instead of `data` to `originalSubject`. For an event: a job that
   * delivers the event to its one subscriber (a replay must not fan out to every subscriber
   * again). Absent when the event could not be decoded: such a dead letter cannot be replayed.
   */
  replay?: { subject: string; data: Uint8Array } | undefined;
  /**
   * What was left out so that the record fits the server's max_payload with the original bytes
   * intact, e.g. `["error.stack", "error.details", "error.message past 1024 characters"]`.
   */
  omitted?: string[] | undefined;
}

export function encodeDeadLetter(d: DeadLetter): Uint8Array {
  return encode(d);
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  // Dead letters carry the original payload, so allow a bit more than one message.
  const raw = decode(bytes, { maxBytes: 8 * 1024 * 1024 });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MalformedMessageError("dead letter must be a map");
  }
  const d = raw as Partial<DeadLetter>;
  if (d.v !== 1 || typeof d.type !== "string" || !(d.data instanceof Uint8Array)) {
    throw new MalformedMessageError("not a version 1 dead letter");
  }
  return d as DeadLetter;
}
