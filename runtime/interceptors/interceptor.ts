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

import type { MessageHeaders } from "../transport/index.js";

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
  /** @internal Where the message goes, for the built-in tracing interceptor. */
  readonly delivery?: OutboundDelivery | undefined;
}

/** A publish on its way out. */
export interface OutboundPublishContext {
  readonly kind: "publish";
  readonly topic: string;
  readonly headers: Record<string, string>;
  /** When the publish stops waiting for its acknowledgement, in `performance.now()` milliseconds. */
  readonly deadline: number;
  readonly caller: string | undefined;
  /** @internal Where the message goes, for the built-in tracing interceptor. */
  readonly delivery?: OutboundDelivery | undefined;
}

/** @internal Where an outbound message goes: what its span names and records. */
export interface OutboundDelivery {
  readonly subject: string;
  /** The job queue, low-cardinality (enqueue). */
  readonly destination?: string;
  /** The job id (enqueue) or the event's `msgId` (publish). */
  readonly messageId?: string | undefined;
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
  /**
   * Who sent it (the caller's `clientId` or per-call `caller`), undefined when it did not say.
   * Self-asserted: any client can name any caller. See `user` for an attested identity.
   */
  readonly caller: string | undefined;
  /**
   * The NATS user that can receive this call's or tell's answer, on a host with `userFromInbox`
   * (production auth: each user reads only its own `_INBOX_<user>` inboxes): the user its reply
   * subject names. Undefined otherwise (that option off, a reply subject naming no user, jobs,
   * events, reminders). A sender may name another user's inbox; it then gets no answer, but the
   * turn runs: see docs/patterns/throttling.md ("Who is calling").
   */
  readonly user?: string | undefined;
  /** @internal Where the message came from, for the built-in tracing interceptor. */
  readonly delivery?: InboundDelivery | undefined;
  /**
   * @internal Set by an interceptor (the built-in tracing one) that runs the turn's handler in a
   * context of its own (the turn's span): the host calls the handler through it.
   */
  scope?: TurnScope | undefined;
}

/**
 * @internal How an inbound message was delivered: what the turn's span names and records. Built
 * only when a chain runs.
 */
export interface InboundDelivery {
  /** The subject, or the message to read it from (nats.js decodes a subject on first access). */
  readonly subject: string | { readonly subject: string };
  /** The headers the trace context is read from; undefined starts a new trace. */
  readonly traceHeaders: MessageHeaders | undefined;
  /** The core NATS queue group (calls and tells). */
  readonly queueGroup?: string;
  /** The queue or topic, low-cardinality (jobs, reminders, events). */
  readonly destination?: string;
  /** The durable consumer (jobs, reminders, events). */
  readonly consumer?: string;
  /** The delivery attempt, from 1 (jobs, reminders). */
  readonly attempt?: number;
  readonly messageId?: string;
}

/** @internal Runs a turn's handler in a context (`fn.call(thisArg, arg)` inside it). */
export interface TurnScope {
  call<This, A, R>(fn: (this: This, arg: A) => R, thisArg: This, arg: A): R;
}

/**
 * @internal A built-in interceptor that may have nothing to do right now (tracing with no SDK
 * registered): while `idle()` is true it is passed over, and a chain of nothing else is skipped.
 */
export interface Idling {
  readonly idle: () => boolean;
}

/**
 * One link of a chain. `next()` runs the rest of the chain and then the hop itself, and resolves
 * with its outcome (a call's result; undefined for a tell; the `Job` of an enqueue; the
 * `PublishReceipt` of a publish; a turn's return value inbound) or rejects with its error.
 */
export type Interceptor<C> = (ctx: C, next: () => Promise<unknown>) => Promise<unknown>;
export type OutboundInterceptor = Interceptor<OutboundContext>;
export type InboundInterceptor = Interceptor<InboundContext>;
