/**
 * Typed references to actors. `ActorRef<Cart>` has every handler of `Cart`, each returning a
 * Promise of its result, so a call site cannot drift from the handler it calls.
 *
 * @example
 * ```ts
 * const cart = mesh.ref(Cart, "cart-42");
 * const count = await cart.add({ sku: "tea", qty: 1 });    // request-reply
 * cart.tell.add({ sku: "tea", qty: 1 });                   // fire-and-forget
 * await cart.with({ timeoutMs: 500 }).add(item);           // per-call deadline
 * ```
 */
import type { CallRetryOptions } from "../resilience/index.js";
import type { ActorOptions, ActorShape } from "./actor-shape.js";

/** The static side of an actor class. */
export interface ActorClass<A extends ActorShape = ActorShape> {
  new (): A;
  readonly name: string;
  /** Type name on the wire; defaults to the class name. Set it if your build minifies class names. */
  readonly typeName?: string;
  /** Makes the actor stateful: the state of an actor that was never saved. */
  readonly initialState?: () => unknown;
  readonly options?: ActorOptions;
}

/** Per-call options. */
export interface CallOptions {
  /** Deadline of the call, relative to now. */
  timeoutMs?: number;
  /**
   * Retry policy: exponential backoff with full jitter, for retryable errors only, within the
   * target type's retry budget and circuit breaker (see docs/patterns/retry.md). Default: no retry
   * (request-reply is at-most-once per attempt).
   */
  retry?: CallRetryOptions;
  /**
   * Who is calling, for this call only: overrides `connect({ clientId })` (the HTTP gateway passes
   * its authenticated principal here). Hosts read it as `ctx.caller` in inbound interceptors.
   */
  caller?: string;
  /**
   * Pace this call with the target type's client-side adaptive rate once the type has throttled a
   * call (docs/patterns/throttling.md). Default: `connect({ adaptiveRate })`, itself default true.
   */
  adaptive?: boolean;
  /**
   * @internal Set by `this.ref()` inside an actor: the `performance.now()` deadline of the calling
   * turn, read at call time. A call never gets more time than its turn has left.
   */
  turnDeadline?: () => number;
}

/** Names of `A`'s members that are handlers: methods that are not part of the Actor base class. */
export type HandlerName<A> = {
  [K in keyof A]: K extends keyof ActorShape
    ? never
    : K extends `_${string}`
      ? never
      : A[K] extends (...args: never[]) => unknown
        ? K
        : never;
}[keyof A] &
  string;

type Handler<F> = F extends (...args: infer P) => infer R ? (...args: P) => Promise<Awaited<R>> : never;
type TellHandler<F> = F extends (...args: infer P) => unknown ? (...args: P) => void : never;

export type ActorRef<A> = { readonly [K in HandlerName<A>]: Handler<A[K]> } & {
  /** Fire-and-forget variants of every handler: no reply, errors are logged on the host. */
  readonly tell: { readonly [K in HandlerName<A>]: TellHandler<A[K]> };
  /** The same reference with other call options. */
  with(options: CallOptions): ActorRef<A>;
};

/** Names a reference reserves for itself; actor classes may not use them as handlers. */
export const RESERVED_HANDLER_NAMES: ReadonlySet<string> = new Set([
  "tell",
  "with",
  "then",
  "catch",
  "finally",
]);

/** True for property names a reference never turns into a call (reserved, or inherited from Object). */
export function isNonHandlerName(prop: string | symbol): boolean {
  return typeof prop !== "string" || RESERVED_HANDLER_NAMES.has(prop) || prop in Object.prototype;
}

/** What a reference needs from the mesh to send. */
export interface CallSender {
  call(type: string, id: string, method: string, args: unknown[], options: CallOptions): Promise<unknown>;
  tell(type: string, id: string, method: string, args: unknown[], options: CallOptions): void;
}

/** Builds the proxy behind an `ActorRef`. Method functions are cached per name. */
export function createActorRef<A>(
  sender: CallSender,
  type: string,
  id: string,
  options: CallOptions,
): ActorRef<A> {
  const calls = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const tells = new Map<string, (...args: unknown[]) => void>();
  const tell = new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (isNonHandlerName(prop)) return undefined;
      const method = prop as string;
      let fn = tells.get(method);
      if (!fn) {
        fn = (...args: unknown[]) => sender.tell(type, id, method, args, options);
        tells.set(method, fn);
      }
      return fn;
    },
  });
  const withOptions = (more: CallOptions) => createActorRef<A>(sender, type, id, { ...options, ...more });
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (prop === "tell") return tell;
      if (prop === "with") return withOptions;
      // `then` must be undefined, or `await ref` would treat the reference as a thenable.
      if (isNonHandlerName(prop)) return undefined;
      const method = prop as string;
      let fn = calls.get(method);
      if (!fn) {
        fn = (...args: unknown[]) => sender.call(type, id, method, args, options);
        calls.set(method, fn);
      }
      return fn;
    },
  }) as ActorRef<A>;
}
