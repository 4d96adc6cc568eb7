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
 */
import { ActorMethodError, TroupeError } from "../errors.js";

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
