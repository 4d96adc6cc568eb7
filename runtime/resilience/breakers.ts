/**
 * One circuit breaker per target actor type (cockatiel's `CircuitBreakerPolicy`), shared by calls
 * and jobs of one mesh connection. It opens when, over `samplingMs`, at least half of the attempts
 * failed with a retryable Troupe error (deadline, unavailable, overloaded...; not the handler's own
 * errors) and there were at least `minimumRps` attempts per second; while it is
 * open, calls fail fast with `CircuitOpenError` and job runners stop pulling that type's jobs.
 */

import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
  SamplingBreaker,
} from "cockatiel";
import { CircuitOpenError, TroupeError } from "../errors.js";
import { AdaptiveRateLimiter } from "./adaptive-rate.js";
import { RetryBudget, type RetryBudgetOptions } from "./retry-budget.js";

export interface BreakerOptions {
  /** Failure ratio that opens the circuit. Default 0.5. */
  threshold?: number;
  /** Sliding window the ratio is measured over. Default 10 s. */
  samplingMs?: number;
  /** Below this many attempts per second the breaker never opens. Default 5. */
  minimumRps?: number;
  /** Open → half-open (one trial attempt) after this long. Default 5 s. */
  halfOpenAfterMs?: number;
}

export { CircuitOpenError } from "../errors.js";

export interface ResilienceOptions {
  breaker?: BreakerOptions;
  budget?: RetryBudgetOptions;
}

/** Breakers and retry budgets per actor type, shared by everything sent through one mesh. */
export class Resilience {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly adaptive = new Map<string, AdaptiveRateLimiter>();

  constructor(
    private readonly options: ResilienceOptions = {},
    /** Which failures count against the circuit. */
    private readonly countsAsFailure: (err: unknown) => boolean = defaultFailure,
  ) {}

  /** The client-side adaptive rate of calls to `type` (shared by every ref of this mesh). */
  adaptiveRate(type: string): AdaptiveRateLimiter {
    let limiter = this.adaptive.get(type);
    if (!limiter) {
      limiter = new AdaptiveRateLimiter();
      this.adaptive.set(type, limiter);
    }
    return limiter;
  }

  /** The type's adaptive rate if it has been engaged (created by a throttle or an `adaptive` retry). */
  engagedRate(type: string): AdaptiveRateLimiter | undefined {
    return this.adaptive.size === 0 ? undefined : this.adaptive.get(type);
  }

  breaker(type: string): CircuitBreakerPolicy {
    let b = this.breakers.get(type);
    if (!b) {
      const o = this.options.breaker ?? {};
      b = circuitBreaker(
        handleWhen((err) => this.countsAsFailure(err)),
        {
          halfOpenAfter: o.halfOpenAfterMs ?? 5000,
          breaker: new SamplingBreaker({
            threshold: o.threshold ?? 0.5,
            duration: o.samplingMs ?? 10_000,
            minimumRps: o.minimumRps ?? 5,
          }),
        },
      );
      this.breakers.set(type, b);
    }
    return b;
  }

  budget(type: string): RetryBudget {
    let b = this.budgets.get(type);
    if (!b) {
      b = new RetryBudget(this.options.budget);
      this.budgets.set(type, b);
    }
    return b;
  }

  /** True while attempts to `type` are refused (open or isolated). */
  isOpen(type: string): boolean {
    const s = this.breakers.get(type)?.state;
    return s === CircuitState.Open || s === CircuitState.Isolated;
  }

  /** Runs `fn` through the type's breaker; an open circuit becomes {@link CircuitOpenError}. */
  async execute<T>(type: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker(type).execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        throw new CircuitOpenError(`circuit of ${type} is open: not attempted`, {
          cause: err,
          details: { actorType: type },
        });
      }
      throw err;
    }
  }
}

/**
 * Failures that say the target type is unhealthy: retryable Troupe errors (deadline, unavailable,
 * overloaded, state store...) and local failures. A handler's own errors do not count: "out of
 * stock" half of the time is business, not an outage.
 */
function defaultFailure(err: unknown): boolean {
  if (!(err instanceof TroupeError)) return true;
  return err.retryable && !(err instanceof CircuitOpenError);
}

const perMesh = new WeakMap<object, Resilience>();

/** The {@link Resilience} shared by every call and job runner of `mesh` (created on first use). */
export function resilienceOf(mesh: object, options?: ResilienceOptions): Resilience {
  let r = perMesh.get(mesh);
  if (!r) {
    r = new Resilience(options);
    perMesh.set(mesh, r);
  }
  return r;
}
