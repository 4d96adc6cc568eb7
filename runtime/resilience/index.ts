/**
 * Resilience policies shared by calls and jobs: the retry decision (by error type), exponential
 * backoff with full jitter, a retry budget, and a circuit breaker per target actor type.
 */
export { AdaptiveRateLimiter, type AdaptiveRateOptions } from "./adaptive-rate.js";
export { type BackoffOptions, DEFAULT_MAX_DELAY_MS, fullJitterDelayMs } from "./backoff.js";
export {
  type BreakerOptions,
  CircuitOpenError,
  Resilience,
  type ResilienceOptions,
  resilienceOf,
} from "./breakers.js";
export { type CallRetryOptions, callWithRetry } from "./call-retry.js";
export {
  RETRY_AFTER_JITTER,
  RETRY_AFTER_MIN_JITTER_MS,
  type RetryDecision,
  retryAfterMsOf,
  retryDecision,
  retryDelayMs,
  TERMINAL_CODE,
} from "./classify.js";
export { pacedCall, throughLimiter } from "./paced-call.js";
export { RetryBudget, type RetryBudgetOptions } from "./retry-budget.js";
