/**
 * Synchronous admission: the fast form of an inbound interceptor that only decides whether a turn
 * may run (a rate limit, an allow-list) and perhaps frees something when it ends (a concurrency
 * slot). Such an interceptor carries `admit` beside its `(ctx, next)` form; both mean the same:
 *
 * | `admit(turn)`                      | the interceptor form                                     |
 * | ---------------------------------- | -------------------------------------------------------- |
 * | returns undefined                  | `return next()`                                           |
 * | returns `release`                  | `return next()`, `release()` once when it settles         |
 * | throws a `TroupeError`             | the same short-circuit (anything else: `InterceptorError`) |
 *
 * When every interceptor of a host carries `admit` (or is a built-in, which has a synchronous form
 * too: sync-links.ts), the host runs the checks in order and queues the turn itself: no context
 * object, no promise, no closure per turn (a `release` is called when the turn settles).
 * Otherwise the chain runs as usual and `admit` is called from the function form.
 * `admissionInterceptor(admit)` builds both from the check, so they cannot drift.
 *
 * @example
 * ```ts
 * const onlyKnown = admissionInterceptor(function onlyKnown(turn) {
 *   if (turn.caller === undefined) throw new TerminalError("who is calling?");
 *   return undefined;
 * });
 * await mesh.host([Cart], { interceptors: [onlyKnown] });
 * ```
 */
import { callerOf } from "../messaging/index.js";
import type { MessageHeaders } from "../transport/index.js";
import type {
  InboundContext,
  InboundDelivery,
  InboundInterceptor,
  InboundKind,
  ReadonlyHeaders,
  TurnScope,
} from "./interceptor.js";

/** What an admission check sees of a turn. Valid only during the call: do not keep it. */
export interface AdmissionTurn {
  readonly kind: InboundKind;
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly caller: string | undefined;
  /** The attested NATS user (see `InboundContext.user`). */
  readonly user?: string | undefined;
  readonly headers: ReadonlyHeaders;
}

/**
 * Decides synchronously whether a turn may run: undefined (yes), a function (yes, call it once
 * when the turn settles; it must not throw: what it throws is ignored) or a throw (no).
 */
export type InboundAdmit = (turn: AdmissionTurn) => (() => void) | undefined;

/** An inbound interceptor that also carries its synchronous admission check. */
export interface AdmittingInterceptor extends InboundInterceptor {
  readonly admit: InboundAdmit;
}

/** The interceptor form of `admit` (named after it), carrying `admit` for the host's fast path. */
export function admissionInterceptor(admit: InboundAdmit): AdmittingInterceptor {
  // A refusal (or a `next` that throws) is a rejected promise, as from any interceptor.
  const intercept = (ctx: InboundContext, next: () => Promise<unknown>): Promise<unknown> => {
    let release: (() => void) | undefined;
    try {
      release = admit(ctx);
      if (!release) return next();
    } catch (err) {
      return Promise.reject(err);
    }
    const taken = release;
    let out: Promise<unknown>;
    try {
      out = next();
    } catch (err) {
      releaseQuietly(taken);
      return Promise.reject(err);
    }
    return out.finally(() => releaseQuietly(taken));
  };
  Object.defineProperty(intercept, "name", { value: admit.name });
  return Object.assign(intercept, { admit });
}

/**
 * The turn the synchronous links see (sync-links.ts: admission checks and the built-ins'
 * observers), refilled for every turn of one dispatcher (one object, no allocation per turn). Its
 * caller is read from the headers as the chain reads it: a message naming an unfit caller is
 * refused with `MalformedMessageError` by {@link AdmissionScratch.fill}.
 */
export class AdmissionScratch implements AdmissionTurn, InboundContext, ReadonlyHeaders {
  kind: InboundKind = "call";
  actorType = "";
  actorId = "";
  method = "";
  caller: string | undefined = undefined;
  user: string | undefined = undefined;
  /** When the turn's budget runs out (for observers). */
  deadline = 0;
  /** Where the message came from (for observers: tracing); undefined while none is active. */
  delivery: InboundDelivery | undefined = undefined;
  /** What an observer (tracing) set to run the turn's handler in. */
  scope: TurnScope | undefined = undefined;
  private raw: MessageHeaders | undefined = undefined;

  get headers(): ReadonlyHeaders {
    return this;
  }

  fill(
    kind: InboundKind,
    actorType: string,
    actorId: string,
    method: string,
    headers: MessageHeaders | undefined,
    user?: string | undefined,
  ): this {
    this.kind = kind;
    this.actorType = actorType;
    this.actorId = actorId;
    this.method = method;
    this.raw = headers;
    this.user = user;
    this.caller = undefined;
    this.delivery = undefined;
    this.scope = undefined;
    this.caller = callerOf(headers);
    return this;
  }

  /** What observers read besides the turn: its deadline and where it came from. */
  observed(deadline: number, delivery: InboundDelivery | undefined): this {
    this.deadline = deadline;
    this.delivery = delivery;
    return this;
  }

  /** Forgets the message (so a kept reference sees no stale headers or scope). */
  clear(): void {
    this.raw = undefined;
    this.caller = undefined;
    this.user = undefined;
    this.delivery = undefined;
    this.scope = undefined;
  }

  get(name: string): string | undefined {
    const raw = this.raw;
    return raw?.has(name) ? raw.get(name) : undefined;
  }

  has(name: string): boolean {
    return this.raw?.has(name) ?? false;
  }

  keys(): string[] {
    return this.raw?.keys() ?? [];
  }
}

/** Calls a `release` from {@link InboundAdmit}, ignoring what it throws. */
export function releaseQuietly(release: () => void): void {
  try {
    release();
  } catch {
    // A release must not throw (see InboundAdmit); the turn's outcome stands.
  }
}
