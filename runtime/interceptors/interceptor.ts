/**
 * The extension point every message goes through: one chain of interceptors around what a client
 * sends (outbound: call, tell, enqueue, publish) and one around every turn a host runs (inbound:
 * call, tell, job, event, reminder), in the spirit of gRPC interceptors and Restate hooks.
 *
 * An interceptor gets the hop's context and `next`, and returns what `next` returned (or its own
 * value): it may read the context, write outbound headers, wrap `next` in its own work (a span, a
 * timer), or short-circuit by throwing a typed error (a `TroupeError`; anything else reaches the
 * caller as `InterceptorError`). Interceptors run in the order the user lists them: the first is
 * the outermost.
 *
 * @example
 * ```ts
 * const stamp: OutboundInterceptor = (ctx, next) => {
 *   ctx.headers["x-tenant"] = "acme";
 *   return next();
 * };
 * const onlyKnown: InboundInterceptor = (ctx, next) => {
 *   if (ctx.caller === undefined) throw new TerminalError("who is calling?");
 *   return next();
 * };
 * const mesh = await connect({ clientId: "shop-1", interceptors: [stamp] });
 * await mesh.host([Cart], { interceptors: [onlyKnown] });
 * ```
 */

/** What a client sends. */
export type OutboundKind = "call" | "tell" | "enqueue" | "publish";
/** What a host runs a turn for. */
export type InboundKind = "call" | "tell" | "job" | "event" | "reminder";

/** Read access to the headers a message came with (keys are lower-case on Troupe's side). */
export interface ReadonlyHeaders {
  get(name: string): string | undefined;
  has(name: string): boolean;
  keys(): string[];
}

/** A call, tell or enqueue on its way out. */
export interface OutboundActorContext {
  readonly kind: "call" | "tell" | "enqueue";
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  /** Headers the message will carry: add or change entries (lower-case keys, string values). */
  readonly headers: Record<string, string>;
  /** When the call (or one job attempt) times out, in `performance.now()` milliseconds. */
  readonly deadline: number;
  /** Who is calling: the call's `caller` option, else `connect({ clientId })`. Carried to the host. */
  readonly caller: string | undefined;
}

/** A publish on its way out. */
export interface OutboundPublishContext {
  readonly kind: "publish";
  readonly topic: string;
  readonly headers: Record<string, string>;
  /** When the publish stops waiting for its acknowledgement, in `performance.now()` milliseconds. */
  readonly deadline: number;
  readonly caller: string | undefined;
}

export type OutboundContext = OutboundActorContext | OutboundPublishContext;

/** A turn about to run on a host. */
export interface InboundContext {
  readonly kind: InboundKind;
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  /** The message's headers (empty when it carried none). */
  readonly headers: ReadonlyHeaders;
  /** When the turn's budget runs out, in `performance.now()` milliseconds. */
  readonly deadline: number;
  /** Who sent it (the caller's `clientId` or per-call `caller`), undefined when it did not say. */
  readonly caller: string | undefined;
}

/**
 * One link of a chain. `next()` runs the rest of the chain and then the hop itself, and resolves
 * with its outcome (a call's result; undefined for a tell; the `Job` of an enqueue; the
 * `PublishReceipt` of a publish; a turn's return value inbound) or rejects with its error.
 */
export type Interceptor<C> = (ctx: C, next: () => Promise<unknown>) => Promise<unknown>;
export type OutboundInterceptor = Interceptor<OutboundContext>;
export type InboundInterceptor = Interceptor<InboundContext>;
