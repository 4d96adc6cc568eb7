/**
 * Wire formats of durable jobs (msgpack arrays, versioned like the call envelope):
 *
 * - job:    `[1, jobId, actorId, method, args, timeoutMs, maxAttempts, keepResult]` (`keepResult` 1 or
 *   0; jobs stored before it existed have 7 elements and keep their result)
 * - result: `[1, status, valueOrError, attempts, finishedAtMs]`, status 0 = ok, 1 = dead-lettered
 * (dead letters: durable/dead-letter.ts)
 *
 * Everything decoded here is untrusted and validated.
 */
import { MalformedMessageError, type WireError } from "../errors.js";
import { type DecodeLimits, decode, encode } from "./codec.js";
import { MAX_ACTOR_ID_LENGTH, MAX_METHOD_LENGTH } from "./envelope.js";
import { isJobId } from "./job-ids.js";

export const JOB_VERSION = 1;

/** The deadline of one attempt of a job that sets none (enqueue, and events replayed as jobs). */
export const DEFAULT_JOB_TIMEOUT_MS = 15 * 60_000;

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

/**
 * The JetStream domain a job was enqueued in, when its server has one (an edge site). A runner in
 * another domain (the hub) stores a second copy of the result for that domain to source back
 * (`JobNames.returnedResultSubject`; docs/patterns/edge-sites.md).
 */
export const ORIGIN_DOMAIN_HEADER = "troupe-origin-domain";
