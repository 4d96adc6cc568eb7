/** Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"). */

export interface BackoffOptions {
  /** Upper bound of the first retry's delay. Default 200 ms. */
  initialDelayMs?: number;
  /** Cap of any delay. Default 30 s. */
  maxDelayMs?: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 200;
export const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based): uniform in
 * [0, min(maxDelay, initialDelay * 2^(attempt-1))). Stateless, so a job's runner (which only knows
 * the delivery count) computes the same distribution as an in-process retry loop.
 */
export function fullJitterDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const initial = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.floor(random() * ceiling);
}
