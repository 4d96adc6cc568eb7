/**
 * The client-side adaptive rate, on by default: a call to an actor type that has refused one of
 * this mesh's calls with `ThrottledError` waits for a slot of that type's {@link AdaptiveRateLimiter}
 * (one per type per mesh) before it is sent. Until the first throttle nothing is paced; the first
 * `ThrottledError` engages the limiter, later ones slow it down, successes bring it back.
 *
 * - `pacedCall` is the default path of every call (opt out: `connect({ adaptiveRate: false })`, or
 *   `adaptive: false` in a ref's options).
 * - `throughLimiter` is one attempt through a limiter (also used by retries with `adaptive`).
 *
 * @example
 * ```ts
 * const value = await pacedCall(resilience, "Cart", () => send());
 * ```
 */
import { ThrottledError } from "../errors.js";
import type { AdaptiveRateLimiter } from "./adaptive-rate.js";
import type { Resilience } from "./breakers.js";

/** One call to `type`: paced once the type has throttled, and a throttle engages the pacing. */
export function pacedCall<T>(resilience: Resilience, type: string, attempt: () => Promise<T>): Promise<T> {
  const limiter = resilience.engagedRate(type);
  if (limiter) return throughLimiter(limiter, attempt);
  return attempt().catch((err: unknown) => {
    if (err instanceof ThrottledError) resilience.adaptiveRate(type).onThrottle();
    throw err;
  });
}

/** One attempt: waits for the limiter's slot, then tells it whether the attempt was throttled. */
export async function throughLimiter<T>(limiter: AdaptiveRateLimiter, attempt: () => Promise<T>): Promise<T> {
  const delayMs = limiter.acquireDelayMs();
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  try {
    const value = await attempt();
    limiter.onSuccess();
    return value;
  } catch (err) {
    if (err instanceof ThrottledError) limiter.onThrottle();
    throw err;
  }
}
