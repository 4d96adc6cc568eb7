/**
 * Resilience policies shared by calls and jobs: the retry decision (by error type), exponential
 * backoff with full jitter, a retry budget, and a circuit breaker per target actor type.
 */
export { type BackoffOptions, fullJitterDelayMs } from "./backoff.js";
export {
  type BreakerOptions,
  CircuitOpenError,
  Resilience,
  type ResilienceOptions,
  resilienceOf,
} from "./breakers.js";
export { type CallRetryOptions, callWithRetry } from "./call-retry.js";
export { type RetryDecision, retryDecision, TERMINAL_CODE } from "./classify.js";
export { RetryBudget, type RetryBudgetOptions } from "./retry-budget.js";
