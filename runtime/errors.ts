/**
 * Troupe's typed errors. Every failure a caller can see is one class with a stable `code`
 * (never reworded: users match on it) and a `retryable` flag that carries the retry decision.
 *
 * Errors cross the wire as `{ code, message, details }` (see `toWireError` / `fromWireError`)
 * and arrive on the caller's side as an instance of the same class.
 *
 * @example
 * ```ts
 * try { await cart.add(item); }
 * catch (err) {
 *   if (err instanceof DeadlineExceededError) { ... }
 *   if (err instanceof TroupeError && err.retryable) { ... }
 * }
 * ```
 */

import { describeThrown, wireSafeDetails } from "./thrown.js";

/** Extra, JSON-like facts attached to an error (e.g. the actor type, the limit that was exceeded). */
export type ErrorDetails = Record<string, string | number | boolean | null | undefined>;

export interface TroupeErrorOptions {
  cause?: unknown;
  details?: ErrorDetails;
}

export abstract class TroupeError extends Error {
  /** Stable machine-readable code, e.g. `TROUPE_DEADLINE_EXCEEDED`. */
  abstract readonly code: string;
  /** Whether repeating the same call may succeed. */
  abstract readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(message: string, options: TroupeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

/** An actor method threw. `remoteName` is the thrown error's class name on the callee. */
export class ActorMethodError extends TroupeError {
  readonly code = "TROUPE_ACTOR_METHOD_FAILED";
  readonly retryable = false;
  get remoteName(): string {
    return String(this.details.remoteName ?? "Error");
  }
}

/** No host serves this actor type (nothing registered it). */
export class UnknownActorTypeError extends TroupeError {
  readonly code = "TROUPE_UNKNOWN_ACTOR_TYPE";
  readonly retryable = false;
}

/** The actor type exists but has no such handler method. */
export class UnknownMethodError extends TroupeError {
  readonly code = "TROUPE_UNKNOWN_METHOD";
  readonly retryable = false;
}

/** The call's deadline passed before a reply arrived (or before its turn could start). */
export class DeadlineExceededError extends TroupeError {
  readonly code = "TROUPE_DEADLINE_EXCEEDED";
  readonly retryable = true;
}

/** The actor's mailbox is full; the call was not executed. Back off and retry. */
export class OverloadedError extends TroupeError {
  readonly code = "TROUPE_OVERLOADED";
  readonly retryable = true;
}

/** Bytes that are not a valid Troupe message (bad msgpack, wrong envelope, forbidden content). */
export class MalformedMessageError extends TroupeError {
  readonly code = "TROUPE_MALFORMED_MESSAGE";
  readonly retryable = false;
}

/** A payload larger than the configured limit; it was refused before decoding. */
export class PayloadTooLargeError extends TroupeError {
  readonly code = "TROUPE_PAYLOAD_TOO_LARGE";
  readonly retryable = false;
}

/** The actor type is known but no host currently serves the shard (handoff, all hosts down). */
export class ActorUnavailableError extends TroupeError {
  readonly code = "TROUPE_ACTOR_UNAVAILABLE";
  readonly retryable = true;
}

/**
 * A state write was refused because the stored revision moved on: another activation wrote
 * first. This activation stood down; the turn's state change was not persisted.
 */
export class StaleActivationError extends TroupeError {
  readonly code = "TROUPE_STALE_ACTIVATION";
  readonly retryable = true;
}

/** Persisting or loading state failed for a reason other than fencing (e.g. JetStream unavailable). */
export class StateStoreError extends TroupeError {
  readonly code = "TROUPE_STATE_STORE_FAILED";
  readonly retryable = true;
}

/**
 * A turn left `this.state` holding a value that stored state cannot hold (a Map, a class instance,
 * a key named `__proto__`, nesting deeper than the state limit, a BigInt outside 64 bits...; see
 * docs/actors.md, "State"). Nothing was saved: the turn was rolled back and its caller gets this
 * error. `details.path` names the offending value (e.g. `state.seen`), `details.reason` says why.
 */
export class StateNotStorableError extends TroupeError {
  readonly code = "TROUPE_STATE_NOT_STORABLE";
  readonly retryable = false;
}

/**
 * The actor's stored state could not be decoded (written by an older Troupe, or by hand), so the
 * actor cannot be activated. Inspect and repair it with `troupe state get|put|rm <Type> <id>`.
 */
export class StateNotLoadableError extends TroupeError {
  readonly code = "TROUPE_STATE_NOT_LOADABLE";
  readonly retryable = false;
}

/** The host is draining or stopped and no longer accepts new calls. */
export class HostShuttingDownError extends TroupeError {
  readonly code = "TROUPE_HOST_SHUTTING_DOWN";
  readonly retryable = true;
}

/**
 * The host running a call went silent: no reply and no keepalive for longer than the caller's
 * `keepaliveTimeoutMs` (it was killed, paused, or cut off from NATS). Like a passed deadline, the
 * call may or may not have run; unlike it, the caller learns this long before a long deadline.
 */
export class HostUnresponsiveError extends TroupeError {
  readonly code = "TROUPE_HOST_UNRESPONSIVE";
  readonly retryable = true;
}

/** The mesh connection is closed; nothing can be sent. */
export class ConnectionClosedError extends TroupeError {
  readonly code = "TROUPE_CONNECTION_CLOSED";
  readonly retryable = false;
}

/**
 * The connection to NATS is down (or was never up) and this send needs it now: a call that needs a
 * reply fails at once instead of waiting out its deadline. With `connect({ outbox })`, tells,
 * enqueues and publishes do not fail this way: the outbox keeps them.
 */
export class OfflineError extends TroupeError {
  readonly code = "TROUPE_OFFLINE";
  readonly retryable = true;
}

/** Could not connect to any NATS server (unreachable, refused, TLS or auth failure). */
export class ConnectionFailedError extends TroupeError {
  readonly code = "TROUPE_CONNECTION_FAILED";
  readonly retryable = true;
}

/**
 * Throw it (or a subclass) from an actor method to say "retrying will not help": a job fails at once
 * and goes to the dead-letter queue; a caller's retry policy does not retry it. Any other error a
 * handler throws is retried for jobs (see docs/patterns/retry.md).
 *
 * @example
 * ```ts
 * async charge(order: Order) {
 *   if (order.total < 0) throw new TerminalError("negative total");
 * }
 * ```
 */
export class TerminalError extends TroupeError {
  readonly code: string = "TROUPE_TERMINAL";
  readonly retryable = false;
}

/**
 * The job queue is full (the stream's `maxMessages`/`maxBytes` limit, or the account's storage):
 * JetStream refused the job, nothing was stored. Retry later, or raise the limits.
 */
export class QueueFullError extends TroupeError {
  readonly code = "TROUPE_QUEUE_FULL";
  readonly retryable = true;
}

/**
 * No result for this job id: it has not finished yet (wait longer), or its result expired from the
 * results stream (MaxAge), or the id is unknown.
 */
export class JobResultUnavailableError extends TroupeError {
  readonly code = "TROUPE_JOB_RESULT_UNAVAILABLE";
  readonly retryable = true;
}

/** Calls to this actor type are failing fast: its circuit breaker is open after repeated failures. */
export class CircuitOpenError extends TroupeError {
  readonly code = "TROUPE_CIRCUIT_OPEN";
  readonly retryable = true;
}

/**
 * JetStream did not answer (timeouts, no responders, "temporarily unavailable") while Troupe was
 * setting up a stream, consumer or bucket, for longer than the setup deadline. Is JetStream
 * enabled on the server, and does the cluster have a meta leader?
 */
export class JetStreamUnavailableError extends TroupeError {
  readonly code = "TROUPE_JETSTREAM_UNAVAILABLE";
  readonly retryable = true;
}

/**
 * A throttle policy refused this turn: the caller is over its limit. Retry after `retryAfterMs`
 * (with jitter); `details` says which policy and limit (`policy`, `limit`: turns per second or
 * concurrent turns, `remaining`: what is left now, `retryAfterMs`).
 */
export class ThrottledError extends TroupeError {
  readonly code = "TROUPE_THROTTLED";
  readonly retryable = true;
  /** How long to wait before the next attempt can be admitted (0 if unknown). */
  get retryAfterMs(): number {
    const value = this.details.retryAfterMs;
    return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
  }
}

/** Invalid use of the API (bad actor type name, reserved method name, bad option). */
export class ConfigurationError extends TroupeError {
  readonly code = "TROUPE_CONFIGURATION";
  readonly retryable = false;
}

/** `nats-server` is not installed or could not be started. */
export class NatsServerUnavailableError extends TroupeError {
  readonly code = "TROUPE_NATS_SERVER_UNAVAILABLE";
  readonly retryable = false;
}

/**
 * An interceptor threw something that is not a `TroupeError` (or called `next()` twice). The hop
 * did not complete as sent; `details.interceptor` names the interceptor, `cause` holds what it threw.
 */
export class InterceptorError extends TroupeError {
  readonly code = "TROUPE_INTERCEPTOR_FAILED";
  readonly retryable = false;
}

/** A code we do not know (e.g. sent by a newer Troupe). Keeps the code and message it came with. */
export class UnknownRemoteError extends TroupeError {
  readonly retryable = false;
  readonly code: string;
  constructor(code: string, message: string, options: TroupeErrorOptions = {}) {
    super(message, options);
    this.code = code;
  }
}

type ErrorClass = new (message: string, options?: TroupeErrorOptions) => TroupeError;

const byCode = new Map<string, ErrorClass>();
for (const cls of [
  ActorMethodError,
  UnknownActorTypeError,
  UnknownMethodError,
  DeadlineExceededError,
  OverloadedError,
  MalformedMessageError,
  PayloadTooLargeError,
  ActorUnavailableError,
  StaleActivationError,
  StateStoreError,
  StateNotStorableError,
  StateNotLoadableError,
  HostShuttingDownError,
  HostUnresponsiveError,
  ConnectionClosedError,
  ConnectionFailedError,
  ConfigurationError,
  NatsServerUnavailableError,
  TerminalError,
  QueueFullError,
  JobResultUnavailableError,
  CircuitOpenError,
  JetStreamUnavailableError,
  ThrottledError,
  InterceptorError,
] as const) {
  byCode.set(new cls("").code, cls);
}

/**
 * The codes of every error class registered above (the ones `fromWireError` rebuilds), e.g. for a
 * table that must cover them all (the gateway's status mapping).
 */
export function registeredErrorCodes(): string[] {
  return [...byCode.keys()];
}

/** The shape of an error on the wire. */
export interface WireError {
  code: string;
  message: string;
  details?: ErrorDetails;
}

/**
 * @internal
 * Turns anything thrown into its wire form, and never throws doing it (see thrown.ts: a
 * null-prototype object, a throwing getter or `toString`, a cyclic or BigInt detail all get a safe
 * description). A TroupeError keeps its code and message, its details reduced to wire-safe
 * primitives; anything else becomes `TROUPE_ACTOR_METHOD_FAILED` with the thrown value's class name
 * (or `typeof`) in `details.remoteName`. Stacks never cross the wire (they leak internals); they are
 * logged on the callee instead.
 */
export function toWireError(err: unknown): WireError {
  try {
    if (err instanceof TroupeError) {
      const code: unknown = err.code;
      const { message } = describeThrown(err);
      if (typeof code === "string") return { code, message, details: wireSafeDetails(err.details) };
    }
    const { name, message } = describeThrown(err);
    const details: ErrorDetails = { remoteName: name };
    if (err instanceof Error) {
      const code: unknown = (err as { code?: unknown }).code;
      if (typeof code === "string" || typeof code === "number") details.remoteCode = code;
    }
    return { code: "TROUPE_ACTOR_METHOD_FAILED", message, details };
  } catch {
    return {
      code: "TROUPE_ACTOR_METHOD_FAILED",
      message: "the actor method threw a value that cannot be described",
      details: { remoteName: "unknown" },
    };
  }
}

/**
 * @internal
 * Rebuilds the typed error a callee sent. Input is untrusted: anything odd is normalised.
 */
export function fromWireError(wire: unknown): TroupeError {
  if (typeof wire !== "object" || wire === null) {
    return new MalformedMessageError("error reply without an error object");
  }
  const w = wire as Record<string, unknown>;
  const code = typeof w.code === "string" ? w.code : "TROUPE_UNKNOWN";
  const message = typeof w.message === "string" ? w.message : "";
  const details = sanitizeDetails(w.details);
  const cls = byCode.get(code);
  if (cls) return new cls(message, { details });
  return new UnknownRemoteError(code, message, { details });
}

function sanitizeDetails(raw: unknown): ErrorDetails {
  const out: ErrorDetails = {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
  }
  return out;
}
