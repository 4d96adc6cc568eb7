/**
 * The retry decision, taken from the error's type (never from its message).
 *
 * | error                                                        | calls    | jobs     |
 * | ------------------------------------------------------------ | -------- | -------- |
 * | `TroupeError` with `retryable: true` (deadline, unavailable,  | retry    | retry    |
 * | overloaded, stale activation, state store, host draining...) |          |          |
 * | `ActorMethodError` (the handler threw an ordinary error)      | terminal | retry    |
 * | `TerminalError` (code `TROUPE_TERMINAL`) thrown by a handler  | terminal | terminal |
 * | any other non-retryable `TroupeError` (unknown method,        | terminal | terminal |
 * | malformed message, payload too large...)                     |          |          |
 * | anything else (a local failure, e.g. a dropped connection)    | retry    | retry    |
 *
 * Calls do not retry a handler's own error by default: a call is at-most-once per attempt and the
 * handler may have had effects. Jobs are at-least-once by contract, so a handler's error is
 * retried unless it says otherwise by throwing `TerminalError`.
 *
 * When to retry ({@link retryDelayMs}):
 *
 * | error                                              | delay before the next attempt           |
 * | -------------------------------------------------- | --------------------------------------- |
 * | says when (`details.retryAfterMs` > 0, e.g.        | retryAfterMs + uniform [0, retryAfterMs |
 * | `ThrottledError`)                                  | / 2), at least the floor of 10 ms       |
 * | anything else                                      | full jitter: uniform [0, min(max,       |
 * |                                                    | initial * 2^(attempt-1)))               |
 *
 * The jitter on top of a retry-after spreads the clients a throttle sent away at the same moment,
 * so they do not all come back at once.
 */
import { ActorMethodError, TroupeError } from "../errors.js";
import { type BackoffOptions, fullJitterDelayMs } from "./backoff.js";

export type RetryDecision = "retry" | "terminal";

/** Code of `TerminalError` (also when it arrives from another process as an unknown remote code). */
export const TERMINAL_CODE = "TROUPE_TERMINAL";

export function retryDecision(err: unknown, userErrors: RetryDecision): RetryDecision {
  if (err instanceof TroupeError) {
    if (err.code === TERMINAL_CODE) return "terminal";
    if (err instanceof ActorMethodError) return userErrors;
    return err.retryable ? "retry" : "terminal";
  }
  return "retry";
}

/** Spread added on top of a server's retry-after: up to this fraction of it, at least {@link RETRY_AFTER_MIN_JITTER_MS}. */
export const RETRY_AFTER_JITTER = 0.5;
export const RETRY_AFTER_MIN_JITTER_MS = 10;

/** The server's "retry after" of an error, in ms (0 when it says nothing usable). */
export function retryAfterMsOf(err: unknown): number {
  if (!(err instanceof TroupeError)) return 0;
  const value = err.details.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The delay before the retry that follows failed attempt `attempt` (1-based): the error's own
 * retry-after plus jitter when it has one, else exponential backoff with full jitter.
 */
export function retryDelayMs(
  err: unknown,
  attempt: number,
  backoff: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const retryAfter = retryAfterMsOf(err);
  if (retryAfter === 0) return fullJitterDelayMs(attempt, backoff, random);
  const spread = Math.max(RETRY_AFTER_MIN_JITTER_MS, retryAfter * RETRY_AFTER_JITTER);
  return Math.ceil(retryAfter + random() * spread);
}
