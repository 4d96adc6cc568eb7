/**
 * The outbound tell path: fire-and-forget, so what fails is logged, never silently lost. A tell that
 * no host serves right now (a shard between owners) is sent again within its deadline, like a
 * call; one that still finds no host is dropped with a warning. A tell refused with
 * `ThrottledError` (its refusal comes back on the tell's reply subject) is sent again after the
 * refusal's `retryAfterMs` plus jitter, within its deadline, and the refusal lowers the type's
 * adaptive rate as a call's does; while that rate paces the type, a tell waits for its slot before
 * it is sent (hosts do not answer tells, so a paced tell counts as a success when it goes out). At
 * most {@link MAX_PENDING_TELL_RESENDS} tells wait (for a resend or a slot) at once: past it a
 * refused tell is dropped with a warning and a tell to pace is sent at once.
 */
import type { CallOptions } from "../actor/index.js";
import { ActorUnavailableError, HostShuttingDownError, OverloadedError, ThrottledError } from "../errors.js";
import {
  chainIdle,
  type OutboundContext,
  type OutboundInterceptor,
  runChain,
} from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import {
  assertCaller,
  type CallEnvelope,
  decodeCall,
  decodeReply,
  encodeCall,
  type Subjects,
} from "../messaging/index.js";
import type { Outbox } from "../outbox/index.js";
import { type Resilience, retryDelayMs } from "../resilience/index.js";
import { errorType, recordTellDropped } from "../telemetry/index.js";
import type { RequestOutcome, RetainedMessage, Transport } from "../transport/index.js";
import type { Routes } from "./routes.js";
import { backoffMs, deadlinePassed, headersFor } from "./wire.js";

/**
 * Tells waiting to be sent again at most (each waits for a host within its deadline). Past it a
 * flood of tells to a type without a host is dropped with warnings instead of piling up timers and
 * resending each some twenty times.
 */
export const MAX_PENDING_TELL_RESENDS = 1024;

/** What the tell path needs of its mesh connection. */
export interface TellDeps {
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly routes: Routes;
  readonly logger: Logger;
  /** The caller identity sent when a tell names none. */
  readonly clientId: string | undefined;
  /** The outbound chain, outermost first, built-ins included (skipped while idle). */
  readonly outbound: readonly OutboundInterceptor[];
  readonly outbox: Outbox | undefined;
  /**
   * The outbox's claim on a broker answer to a tell it forwarded (it keeps such tells, in order,
   * until a host took them); true when the answer was the outbox's. Undefined without an outbox.
   */
  readonly outboxClaims?: ((token: number, outcome: RequestOutcome) => boolean) | undefined;
  /** Pace tells to a type after a `ThrottledError` unless a tell says otherwise; feed refusals to it. */
  readonly adaptiveRate: boolean;
  /** The connection's adaptive rates, shared with its calls. */
  resilience(): Resilience;
  /** True once the mesh is closing: pending resends are abandoned. */
  isClosed(): boolean;
}

/** The highest attempt number a resend carries (the transport keeps it in a byte). */
const MAX_ATTEMPT = 255;

export class Tells {
  private resends = 0;

  constructor(private readonly deps: TellDeps) {
    deps.transport.onOneWayAnswer((sent, outcome, token) => {
      if (!deps.outboxClaims?.(token, outcome)) this.answered(sent, outcome);
    });
  }

  /** Tells waiting to be sent again (at most {@link MAX_PENDING_TELL_RESENDS}). */
  get pendingResends(): number {
    return this.resends;
  }

  tell(type: string, id: string, method: string, args: unknown[], options: CallOptions): void {
    const d = this.deps;
    const timeoutMs = d.routes.timeoutFor(options);
    const limiter = (options.adaptive ?? d.adaptiveRate) ? d.resilience().engagedRate(type) : undefined;
    if (!limiter) {
      this.tellNow(type, id, method, args, options, timeoutMs);
      return;
    }
    const delayMs = limiter.acquireDelayMs();
    limiter.onSuccess();
    if (delayMs <= 0 || this.resends >= MAX_PENDING_TELL_RESENDS) {
      this.tellNow(type, id, method, args, options, timeoutMs);
      return;
    }
    if (delayMs >= timeoutMs) {
      const err = new ThrottledError(
        `paced past its deadline: the next slot for ${type} is in ${delayMs} ms`,
        {
          details: { actorType: type, method, retryAfterMs: delayMs },
        },
      );
      this.droppedFrom(d.routes.subjectFor(type, id), err);
      return;
    }
    this.resends++;
    setTimeout(() => {
      this.resends--;
      if (d.isClosed() || d.transport.isClosed) return;
      this.tellNow(type, id, method, args, options, timeoutMs - delayMs);
    }, delayMs);
  }

  private tellNow(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    timeoutMs: number,
  ): void {
    const d = this.deps;
    const subject = d.routes.subjectFor(type, id);
    const caller = options.caller === undefined ? d.clientId : assertCaller(options.caller, "caller");
    if (chainIdle(d.outbound)) {
      this.tellOnce(type, id, method, args, subject, timeoutMs, caller, undefined);
      return;
    }
    const ctx: OutboundContext = {
      kind: "tell",
      actorType: type,
      actorId: id,
      method,
      headers: {},
      deadline: performance.now() + timeoutMs,
      caller,
      delivery: { subject },
    };
    // A tell has nobody to reject: what an interceptor refuses is logged, never silently lost.
    runChain(d.outbound, ctx, () => {
      const left = ctx.deadline - performance.now();
      if (left <= 0) return Promise.reject(deadlinePassed(type, method, timeoutMs));
      this.tellOnce(type, id, method, args, subject, left, caller, ctx.headers);
      return Promise.resolve(undefined);
    }).catch((err: unknown) => {
      recordTellDropped(type, errorType(err));
      d.logger.warn("tell not sent", { actorType: type, actorId: id, method, err });
    });
  }

  private tellOnce(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    timeoutMs: number,
    caller: string | undefined,
    extraHeaders: Record<string, string> | undefined,
  ): void {
    const data = encodeCall({ actorId: id, method, timeoutMs, args, oneWay: true });
    this.send(type, id, subject, data, headersFor(undefined, extraHeaders, caller));
  }

  private send(
    type: string,
    id: string,
    subject: string,
    data: Uint8Array,
    headers: Record<string, string> | undefined,
    attempt = 0,
  ): void {
    const d = this.deps;
    const local = d.routes.localFor(type, id);
    if (local) local.deliverLocally(type, id, subject, data, undefined, headers);
    // A first send goes through the outbox when there is one; its resends (no host yet) do not.
    else if (d.outbox && attempt === 0)
      d.outbox.appendNow({ kind: "tell", subject, data, headers, lane: `tell:${type}:${id}` });
    else d.transport.publishOneWay(subject, data, headers, attempt);
  }

  /** The broker found no host for a tell, or the host that got it no longer serves its shard. */
  private answered(sent: RetainedMessage | undefined, outcome: RequestOutcome): void {
    if (outcome.kind === "reply") {
      const reply = decodeReply(outcome.data);
      if (reply.ok) return; // hosts do not answer tells; had one, nothing was lost
      if (reply.error instanceof ThrottledError) {
        this.throttled(sent, reply.error);
        return;
      }
      if (!(reply.error instanceof HostShuttingDownError)) {
        this.dropped(sent, reply.error);
        return;
      }
    }
    if (!sent?.data) {
      this.dropped(
        sent,
        new ActorUnavailableError("no host served it, and it was not retained for a resend"),
      );
      return;
    }
    if (this.resends >= MAX_PENDING_TELL_RESENDS) {
      this.dropped(
        sent,
        new OverloadedError(`no host served it, and ${MAX_PENDING_TELL_RESENDS} tells already wait for one`),
      );
      return;
    }
    this.resends++;
    void this.resend(sent, sent.data)
      .catch((err: unknown) => this.dropped(sent, err))
      .finally(() => this.resends--);
  }

  /**
   * A host refused a tell over a throttle limit: the refusal lowers the type's adaptive rate, and
   * the tell goes again after the refusal's retry-after plus jitter (or its paced slot, if later)
   * within its deadline; past the deadline it is dropped with the refusal.
   */
  private throttled(sent: RetainedMessage | undefined, err: ThrottledError): void {
    const d = this.deps;
    const type = sent ? d.subjects.rpcType(sent.subject) : undefined;
    const limiter = type && d.adaptiveRate ? d.resilience().adaptiveRate(type) : undefined;
    // Once per burst: the refusals of tells sent before the last throttle lower the rate no further.
    limiter?.onThrottle(sent?.sentAt, rateLimitOf(err));
    if (!sent?.data || this.resends >= MAX_PENDING_TELL_RESENDS) {
      this.dropped(sent, err);
      return;
    }
    const pause = Math.max(retryDelayMs(err, sent.attempt + 1), limiter?.acquireDelayMs() ?? 0);
    this.resends++;
    void this.resend(sent, sent.data, pause, err)
      .catch((e: unknown) => this.dropped(sent, e))
      .finally(() => this.resends--);
  }

  /**
   * Sends a retained tell again after `pause` (default: a call's backoff for a shard without a
   * host); past its deadline it fails with `refusal`, or `ActorUnavailableError` without one.
   */
  private async resend(
    sent: RetainedMessage,
    data: Uint8Array,
    pauseMs?: number,
    refusal?: ThrottledError,
  ): Promise<void> {
    const d = this.deps;
    const call: CallEnvelope = decodeCall(data);
    const type = d.subjects.rpcType(sent.subject);
    if (!type) throw new ActorUnavailableError(`not a call subject: ${sent.subject}`);
    if (!refusal) await d.routes.assertTypeKnown(type);
    const elapsed = performance.now() - sent.sentAt;
    // The same backoff as a call's retries: 20, 40, 80... capped at 500 ms, with jitter.
    const pause = pauseMs ?? backoffMs(sent.attempt);
    const remaining = call.timeoutMs - elapsed - pause;
    if (remaining <= 0) {
      if (refusal) throw refusal;
      throw new ActorUnavailableError(`no host served ${type}/${call.actorId} within its deadline`, {
        details: { actorType: type, actorId: call.actorId, method: call.method },
      });
    }
    await new Promise((r) => setTimeout(r, pause));
    if (d.isClosed() || d.transport.isClosed) return;
    const again = encodeCall({ ...call, timeoutMs: remaining, oneWay: true });
    // Hosts do not answer a tell they take: one that goes out at its paced slot counts as taken.
    if (refusal && d.adaptiveRate) d.resilience().engagedRate(type)?.onSuccess();
    const attempt = Math.min(sent.attempt + 1, MAX_ATTEMPT);
    this.send(type, call.actorId, sent.subject, again, sent.headers, attempt);
  }

  private dropped(sent: RetainedMessage | undefined, err: unknown): void {
    this.droppedFrom(sent?.subject, err);
  }

  private droppedFrom(subject: string | undefined, err: unknown): void {
    const type = subject ? this.deps.subjects.rpcType(subject) : undefined;
    recordTellDropped(type, errorType(err));
    // A flood of dropped tells writes one line per interval, with the count (see RepeatLimiter).
    repeatsOf(this.deps.logger).warn(`tell dropped:${type}:${failureKind(err)}`, "tell dropped", {
      subject,
      err,
    });
  }
}

/** The rate limit (per second) a throttle refusal names, if it was a rate limit. */
function rateLimitOf(err: ThrottledError): number | undefined {
  const { scope, limit } = err.details;
  return scope === "rate" && typeof limit === "number" && limit > 0 ? limit : undefined;
}
