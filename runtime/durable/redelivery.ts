/**
 * The redelivery decision of durable work, shared by job runners and durable event subscribers:
 * given a delivery's attempt number, when its message was stored and (after a failure) the error,
 * either retry after a full-jitter backoff (Nak with delay) or dead-letter it, with the reason.
 *
 * @example
 * ```ts
 * const early = verdictBeforeAttempt(m.deliveryCount, 5, m.storedAtMs, policy);
 * if (early) return deadLetter(early);
 * ...
 * const v = verdictAfterFailure(err, m.deliveryCount, 5, m.storedAtMs, policy, budget);
 * if (v.action === "retry") m.nak(v.delayMs); else deadLetter(v);
 * ```
 */

import type { RetryBudget } from "../resilience/index.js";
import { fullJitterDelayMs, retryDecision } from "../resilience/index.js";
import type { DeadLetterReason } from "./dead-letter-reason.js";

export interface RedeliveryPolicy {
  /** A delivery is dead-lettered instead of retried once this long has passed since it was stored. */
  readonly maxElapsedMs: number;
  /** Upper bound of the first retry's delay (full jitter, doubling per attempt). */
  readonly initialDelayMs: number;
  /** Cap of a retry's delay, and the delay used when the retry budget is spent. */
  readonly maxDelayMs: number;
}

export type Verdict =
  | { readonly action: "retry"; readonly delayMs: number }
  | {
      readonly action: "dead-letter";
      readonly reason: DeadLetterReason;
      /** Attempts to record in the dead letter. */
      readonly attempts: number;
      readonly error: unknown;
    };

/**
 * Checks made before an attempt runs: the previous holder died on the last allowed attempt
 * (`attempt > maxAttempts`), or the message is older than `maxElapsedMs`. Undefined: go ahead.
 */
export function verdictBeforeAttempt(
  attempt: number,
  maxAttempts: number,
  storedAtMs: number,
  policy: RedeliveryPolicy,
  now = Date.now(),
): Verdict | undefined {
  if (attempt > maxAttempts) {
    const error = new Error(
      `attempt ${attempt - 1} of ${maxAttempts} ended without an outcome (its runner stopped acking)`,
    );
    return { action: "dead-letter", reason: "attempts-exhausted", attempts: attempt - 1, error };
  }
  if (now - storedAtMs > policy.maxElapsedMs) {
    const error = new Error(`more than ${policy.maxElapsedMs} ms since the message was stored`);
    return { action: "dead-letter", reason: "expired", attempts: attempt - 1, error };
  }
  return undefined;
}

/**
 * After attempt `attempt` failed with `err`: a non-retryable error (see resilience/classify.ts;
 * a handler's own errors are retried) or the last attempt dead-letters; otherwise retry after a
 * full-jitter delay within the retry budget, or after `maxDelayMs` once the budget is spent (the
 * work still runs again, but a failing dependency sees a trickle instead of a storm), unless that
 * would pass `maxElapsedMs`.
 */
export function verdictAfterFailure(
  err: unknown,
  attempt: number,
  maxAttempts: number,
  storedAtMs: number,
  policy: RedeliveryPolicy,
  budget: RetryBudget,
  now = Date.now(),
): Verdict {
  if (retryDecision(err, "retry") === "terminal") {
    return { action: "dead-letter", reason: "terminal", attempts: attempt, error: err };
  }
  if (attempt >= maxAttempts) {
    return { action: "dead-letter", reason: "attempts-exhausted", attempts: attempt, error: err };
  }
  const delayMs = budget.tryRetry() ? fullJitterDelayMs(attempt, policy) : policy.maxDelayMs;
  if (now + delayMs - storedAtMs > policy.maxElapsedMs) {
    return { action: "dead-letter", reason: "expired", attempts: attempt, error: err };
  }
  return { action: "retry", delayMs };
}
