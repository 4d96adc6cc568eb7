/**
 * The outbound call path behind every `ActorRef` method: retry policy and adaptive pacing, the
 * outbound interceptors, then routing (in-process to a host of this connection, or a request over
 * the broker) and the reply. The first attempt is a plain promise chain (no async frame, no retry
 * state); only a shard without a serving host takes the retry path.
 */
import type { CallOptions } from "../actor/index.js";
import { checkCallOptions } from "../client-options.js";
import { ActorUnavailableError, HostShuttingDownError } from "../errors.js";
import {
  chainIdle,
  type OutboundContext,
  type OutboundInterceptor,
  observersOf,
  runChain,
} from "../interceptors/index.js";
import { assertCaller, decodeReply, encodeCall } from "../messaging/index.js";
import type { Outbox } from "../outbox/index.js";
import { callWithRetry, pacedCall, type Resilience } from "../resilience/index.js";
import type { RequestOutcome, Transport } from "../transport/index.js";
import type { Routes } from "./routes.js";
import { backoffMs, deadlinePassed, headersFor, offline } from "./wire.js";

/** What the call path needs of its mesh connection. */
export interface CallerDeps {
  readonly transport: Transport;
  readonly routes: Routes;
  readonly keepaliveTimeoutMs: number;
  /** The caller identity sent when a call names none. */
  readonly clientId: string | undefined;
  /** The outbound chain, outermost first, built-ins included (skipped while idle). */
  readonly outbound: readonly OutboundInterceptor[];
  readonly outbox: Outbox | undefined;
  /** Pace calls to a type after a `ThrottledError` unless a call says otherwise. */
  readonly adaptiveRate: boolean;
  /** The connection's breakers and adaptive rates, shared with its runners. */
  resilience(): Resilience;
}

export class Caller {
  /** The chain's observing built-ins (tracing, metrics): all that runners' deliveries go through. */
  private readonly observers: readonly OutboundInterceptor[];

  constructor(private readonly deps: CallerDeps) {
    this.observers = observersOf(deps.outbound);
  }

  /**
   * A call to `type`/`id`. `argsOwned`: the caller hands `args` over (job runners, subscribers and
   * reminder runners, which decoded them just now): an in-process delivery need not copy them.
   */
  call(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    argsOwned = false,
  ): Promise<unknown> {
    const d = this.deps;
    if (d.outbox?.offline && !d.routes.localFor(type, id)) return Promise.reject(offline(type, method));
    const adaptive = options.adaptive ?? d.adaptiveRate;
    if (options.retry) {
      try {
        checkCallOptions(options); // ref.with() may have added them
      } catch (err) {
        return Promise.reject(err);
      }
      const { retry, ...once } = options;
      const policy = retry.adaptive === undefined ? { ...retry, adaptive } : retry;
      return callWithRetry(d.resilience(), type, () => this.callOnce(type, id, method, args, once), policy);
    }
    // Runners' deliveries (argsOwned) are the host's own work, never paced.
    if (!adaptive || argsOwned) return this.callOnce(type, id, method, args, options, argsOwned);
    return pacedCall(d.resilience(), type, () => this.callOnce(type, id, method, args, options, false));
  }

  /** One attempt of a call: the outbound chain (tracing, metrics, the application's), then {@link send}. */
  private callOnce(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    options: CallOptions,
    argsOwned = false,
  ): Promise<unknown> {
    const d = this.deps;
    let subject: string;
    let timeoutMs: number;
    let caller: string | undefined;
    try {
      subject = d.routes.subjectFor(type, id);
      timeoutMs = d.routes.timeoutFor(options);
      caller = options.caller === undefined ? d.clientId : assertCaller(options.caller, "caller");
    } catch (err) {
      return Promise.reject(err);
    }
    // Runners' deliveries (argsOwned) are the host's own work, not a client's call: only the
    // observing built-ins see them (their span and metrics), not the application's interceptors.
    const chain = argsOwned ? this.observers : d.outbound;
    if (chainIdle(chain)) {
      return this.send(type, id, method, args, subject, timeoutMs, caller, undefined, argsOwned);
    }
    const ctx: OutboundContext = {
      kind: "call",
      actorType: type,
      actorId: id,
      method,
      headers: {},
      deadline: performance.now() + timeoutMs,
      caller,
      delivery: { subject },
    };
    return runChain(chain, ctx, () => {
      const left = ctx.deadline - performance.now();
      if (left <= 0) return Promise.reject(deadlinePassed(type, method, timeoutMs));
      return this.send(type, id, method, args, subject, left, caller, ctx.headers, argsOwned);
    });
  }

  /** One call, after the outbound chain: local or remote delivery, then the reply. */
  private send(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    timeoutMs: number,
    caller: string | undefined,
    extraHeaders: Record<string, string> | undefined,
    argsOwned: boolean,
  ): Promise<unknown> {
    const d = this.deps;
    const deadline = performance.now() + timeoutMs;
    const headers = headersFor(undefined, extraHeaders, caller);
    const local = d.routes.localFor(type, id);
    let sent: Promise<RequestOutcome>;
    if (local && argsOwned) {
      sent = d.transport.requestLocally(timeoutMs, (replyTo) =>
        local.runLocally(type, id, subject, method, args, timeoutMs, replyTo, headers),
      );
    } else {
      const data = encodeCall({ actorId: id, method, timeoutMs, args });
      sent = local
        ? d.transport.requestLocally(timeoutMs, (replyTo) =>
            local.deliverLocally(type, id, subject, data, replyTo, headers),
          )
        : d.transport.request(subject, data, timeoutMs, headers, d.keepaliveTimeoutMs);
    }
    return sent.then((outcome) => {
      if (outcome.kind === "reply") {
        const reply = decodeReply(outcome.data);
        if (reply.ok) return reply.value;
        // A host that no longer holds the shard refused the call without running it: retry.
        if (!(reply.error instanceof HostShuttingDownError)) throw reply.error;
      } else if (outcome.kind === "settled") {
        if (outcome.ok) return outcome.value;
        if (!(outcome.value instanceof HostShuttingDownError)) throw outcome.value;
      }
      return this.retryUntilServed(type, id, method, args, subject, outcome, deadline, timeoutMs, headers);
    });
  }

  /** Retries a call whose shard had no serving host (hand-off, host loss) until its deadline. */
  private async retryUntilServed(
    type: string,
    id: string,
    method: string,
    args: unknown[],
    subject: string,
    first: RequestOutcome,
    deadline: number,
    timeoutMs: number,
    headers: Record<string, string> | undefined,
  ): Promise<unknown> {
    const d = this.deps;
    let outcome = first;
    let remaining: number;
    for (let attempt = 0; ; attempt++) {
      // Nobody serves the shard: an unknown type fails now; a known one is between owners, so retry.
      if (outcome.kind === "no-responders") await d.routes.assertTypeKnown(type);
      remaining = deadline - performance.now();
      const pause = Math.min(remaining, backoffMs(attempt));
      if (remaining <= 0 || pause >= remaining) {
        throw new ActorUnavailableError(`no host served ${type}/${id} within ${timeoutMs} ms`, {
          details: { actorType: type, actorId: id, method, timeoutMs },
        });
      }
      await new Promise((r) => setTimeout(r, pause));
      remaining = deadline - performance.now();
      if (remaining <= 0) throw deadlinePassed(type, method, timeoutMs);
      const data = encodeCall({ actorId: id, method, timeoutMs: remaining, args });
      outcome = await d.transport.request(subject, data, remaining, headers, d.keepaliveTimeoutMs);
      if (outcome.kind === "reply") {
        const reply = decodeReply(outcome.data);
        if (reply.ok) return reply.value;
        if (!(reply.error instanceof HostShuttingDownError)) throw reply.error;
      }
    }
  }
}
