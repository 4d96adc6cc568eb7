/**
 * Retries for request-reply calls: the same decision table, backoff, budget and per-type breaker
 * as jobs, through cockatiel's retry policy. Opt-in per reference, because a retried call may run
 * twice (a deadline does not say whether the turn ran).
 *
 * @example
 * ```ts
 * const cart = resilientRef(mesh, Cart, "cart-42", { retry: { maxAttempts: 4, maxElapsedMs: 5000 } });
 * await cart.add(item);      // retried on deadline/unavailable/overloaded, within the retry budget
 * ```
 */
import { ExponentialBackoff, fullJitterGenerator, handleWhen, retry } from "cockatiel";
import type { AnyActor } from "../actor/actor.js";
import type { ActorClass, ActorRef, CallOptions } from "../actor/actor-ref.js";
import { isNonHandlerName } from "../actor/actor-ref.js";
import { typeNameOf } from "../actor/actor-type.js";
import type { Mesh } from "../mesh.js";
import { type BackoffOptions, DEFAULT_INITIAL_DELAY_MS, DEFAULT_MAX_DELAY_MS } from "./backoff.js";
import { type Resilience, resilienceOf } from "./breakers.js";
import { retryAfterMsOf, retryDecision } from "./classify.js";
import { honouringRetryAfter } from "./retry-after-backoff.js";

export interface CallRetryOptions extends BackoffOptions {
  /** Attempts in total, the first included. Default 3. */
  maxAttempts?: number;
  /** No retry starts after this long since the first attempt. Default 30 s. */
  maxElapsedMs?: number;
  /** Also retry the handler's own errors (`ActorMethodError`). Default false. */
  retryUserErrors?: boolean;
}

export interface ResilientRefOptions extends CallOptions {
  retry?: CallRetryOptions;
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
  return policy.execute(() => resilience.execute(type, attempt));
}

/** Like `mesh.ref(type, id)`, with every method call retried by `options.retry`. */
export function resilientRef<A extends AnyActor>(
  mesh: Mesh,
  type: ActorClass<A>,
  id: string,
  options: ResilientRefOptions = {},
): ActorRef<A> {
  const { retry: retryOptions, ...callOptions } = options;
  const ref = mesh.ref(type, id, callOptions);
  const typeName = typeNameOf(type);
  const resilience = resilienceOf(mesh);
  const calls = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (prop === "tell") return ref.tell;
      if (prop === "with")
        return (more: ResilientRefOptions) => resilientRef(mesh, type, id, { ...options, ...more });
      if (isNonHandlerName(prop)) return undefined;
      const method = prop as string;
      let fn = calls.get(method);
      if (!fn) {
        const target = (ref as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method];
        if (!target) return undefined;
        fn = (...args: unknown[]) => callWithRetry(resilience, typeName, () => target(...args), retryOptions);
        calls.set(method, fn);
      }
      return fn;
    },
  }) as ActorRef<A>;
}
