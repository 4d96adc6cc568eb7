/**
 * A cockatiel backoff that believes the server: after an error with `retryAfterMs` (e.g. a
 * `ThrottledError`) it waits that long plus jitter (see `retryDelayMs` in classify.ts) instead of
 * the wrapped backoff's delay; errors without one keep the wrapped backoff.
 */
import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from "cockatiel";
import type { BackoffOptions } from "./backoff.js";
import { retryAfterMsOf, retryDelayMs } from "./classify.js";

type RetryContext = IRetryBackoffContext<unknown>;

export function honouringRetryAfter(
  inner: IBackoffFactory<RetryContext>,
  options: BackoffOptions = {},
): IBackoffFactory<RetryContext> {
  const wrap = (step: IBackoff<RetryContext>, context: RetryContext): IBackoff<RetryContext> => {
    const err = "error" in context.result ? context.result.error : undefined;
    return {
      duration: retryAfterMsOf(err) > 0 ? retryDelayMs(err, context.attempt, options) : step.duration,
      next: (next) => wrap(step.next(next), next),
    };
  };
  return { next: (context) => wrap(inner.next(context), context) };
}
