/**
 * Retries for request-reply calls: the same decision table, backoff, budget and per-type breaker
 * as jobs, through cockatiel's retry policy. Opt-in per reference, because a retried call may run
 * twice (a deadline does not say whether the turn ran).
 *
 * @example
 * ```ts
 * const cart = mesh.ref(Cart, "cart-42", { retry: { maxAttempts: 4, maxElapsedMs: 5000 } });
 * await cart.add(item);      // retried on deadline/unavailable/overloaded, within the retry budget
 * ```
 */
import { ExponentialBackoff, fullJitterGenerator, handleWhen, retry } from "cockatiel";
import { type BackoffOptions, DEFAULT_INITIAL_DELAY_MS, DEFAULT_MAX_DELAY_MS } from "./backoff.js";
import type { Resilience } from "./breakers.js";
import { retryAfterMsOf, retryDecision } from "./classify.js";
import { throughLimiter } from "./paced-call.js";
import { honouringRetryAfter } from "./retry-after-backoff.js";

export interface CallRetryOptions extends BackoffOptions {
  /** Attempts in total, the first included. Default 3. */
  maxAttempts?: number;
  /** No retry starts after this long since the first attempt. Default 30 s. */
  maxElapsedMs?: number;
  /** Also retry the handler's own errors (`ActorMethodError`). Default false. */
  retryUserErrors?: boolean;
  /**
   * Pace attempts with the type's client-side adaptive rate (AdaptiveRateLimiter, shared by the
   * mesh's refs of the type): out of the way until a ThrottledError, then backing off
   * multiplicatively and recovering gradually. Default true unless the mesh was connected with
   * `adaptiveRate: false`; false: attempts are never paced.
   */
  adaptive?: boolean;
}

/** Runs `attempt` with retries, under the type's breaker and retry budget. */
export function callWithRetry<T>(
  resilience: Resilience,
  type: string,
  attempt: () => Promise<T>,
  options: CallRetryOptions = {},
): Promise<T> {
  const started = performance.now();
  const maxElapsed = options.maxElapsedMs ?? 30_000;
  const budget = resilience.budget(type);
  budget.recordAttempt();
  const policy = retry(
    handleWhen((err) => {
      if (retryDecision(err, options.retryUserErrors ? "retry" : "terminal") !== "retry") return false;
      // A server that says "not before X" is believed: no retry that could not start in time.
      if (performance.now() - started + retryAfterMsOf(err) >= maxElapsed) return false;
      return budget.tryRetry();
    }),
    {
      maxAttempts: Math.max(0, (options.maxAttempts ?? 3) - 1),
      backoff: honouringRetryAfter(
        new ExponentialBackoff({
          generator: fullJitterGenerator,
          initialDelay: options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS,
          maxDelay: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
        }),
        options,
      ),
    },
  );
  if (!options.adaptive) return policy.execute(() => resilience.execute(type, attempt));
  const limiter = resilience.adaptiveRate(type);
  return policy.execute(() => resilience.execute(type, () => throughLimiter(limiter, attempt)));
}
