/**
 * Tracing and metrics as the first built-in interceptors: `connect()` and `mesh.host()` put them
 * in their chains unless told otherwise (docs/interceptors.md). Each is idle while no OpenTelemetry
 * SDK is registered, and a chain of nothing but idle built-ins is skipped, so untraced hops pay one
 * check per built-in.
 *
 * Outbound, a call's CLIENT span `call <Type>.<method>`, a tell's PRODUCER span `send ...`, an
 * enqueue's `enqueue <queue>`, a publish's `publish <topic>`, children of the active context; the
 * span's context goes into the message's headers (`traceparent`), and the rest of the chain runs in
 * it. An unsampled hop writes only the `traceparent`, its sampled flag off.
 *
 * Inbound, the span depends on the kind of turn (the table of `hops.ts`): a call's SERVER span or
 * a tell's CONSUMER span `process <Type>.<method>`, a job's or reminder's `process <queue>` (a
 * redelivery starts a new trace with a link), an event's `process <topic>`. The rest of the chain
 * runs in the span's context, and the turn's handler too (the span is the turn's scope), so user
 * spans are its children. An unsampled turn records nothing and runs in the extracted context.
 */
import { type Context, context } from "@opentelemetry/api";
import {
  type Idling,
  type InboundContext,
  type InboundInterceptor,
  type Observer,
  type OutboundContext,
  type OutboundInterceptor,
  runTaken,
  Taken,
  TRUSTED_LINK,
} from "../interceptors/index.js";
import { activeTracer, endHopWith, errorType, Hop, type OutboundHop } from "./hop.js";
import {
  startCallSpan,
  startEnqueueSpan,
  startEventSpan,
  startJobSpan,
  startPublishSpan,
  startTellSpan,
  startTurnSpan,
} from "./hops.js";
import { metricsEnabled, recordCall } from "./metrics.js";

function startInboundHop(ctx: InboundContext): Hop | undefined {
  const d = ctx.delivery;
  if (!d) return undefined;
  switch (ctx.kind) {
    case "call":
    case "tell":
      return startTurnSpan(
        d.traceHeaders,
        ctx.kind,
        ctx.actorType,
        ctx.method,
        ctx.actorId,
        d.subject,
        d.queueGroup,
      );
    case "job":
    case "reminder":
      return startJobSpan(
        d.traceHeaders,
        d.destination ?? ctx.actorType,
        subjectOf(d.subject),
        d.consumer ?? "",
        d.attempt ?? 1,
        d.messageId,
      );
    case "event":
      return startEventSpan(
        d.traceHeaders,
        d.destination ?? "",
        subjectOf(d.subject),
        d.consumer ?? "",
        d.messageId,
      );
  }
}

function subjectOf(subject: string | { readonly subject: string }): string {
  return typeof subject === "string" ? subject : subject.subject;
}

function startOutboundHop(ctx: OutboundContext): OutboundHop | undefined {
  const d = ctx.delivery;
  if (!d) return undefined;
  switch (ctx.kind) {
    case "call":
      return startCallSpan(ctx.actorType, ctx.method, ctx.actorId, d.subject);
    case "tell":
      return startTellSpan(ctx.actorType, ctx.method, ctx.actorId, d.subject);
    case "enqueue":
      return startEnqueueSpan(d.destination ?? ctx.actorType, d.subject, d.messageId);
    case "publish":
      return startPublishSpan(ctx.topic, d.subject, d.messageId);
  }
}

/**
 * Each built-in is written once, as an observer (a begin/end pair). Its synchronous form
 * (interceptors/sync-links.ts) is used when no user interceptor sits in the chain: the same spans
 * and metrics without the chain's promises; the rest of the hop does not run in the span's context
 * then, and needs not (outbound the span travels in the headers, inbound the handler runs in the
 * turn's scope). Its interceptor form ({@link chainForm}) runs the rest of the chain in the span's
 * context, so that a user interceptor sees it as the active one.
 */
const inboundObserver: Observer<InboundContext> = {
  begin(ctx) {
    const hop = startInboundHop(ctx);
    if (!hop) return undefined;
    ctx.scope = hop;
    // Unsampled: the turn runs in the hop's context (its scope), and there is nothing to end.
    return hop.span ? hop : undefined;
  },
  end(hop, error, failed) {
    endHopWith(hop as Hop | undefined, failed ? { ok: false, error } : OK);
  },
};

const outboundObserver: Observer<OutboundContext> = {
  begin(ctx) {
    const hop = startOutboundHop(ctx);
    if (!hop) return undefined;
    const headers = ctx.headers;
    for (const key in hop.headers) headers[key] = hop.headers[key] as string;
    // Unsampled: nothing to end, and the active context is already the hop's.
    return hop.span ? hop : undefined;
  },
  end(hop, error, failed) {
    endHopWith(hop as Hop | undefined, failed ? { ok: false, error } : OK);
  },
};

/** A call being timed: what {@link callMetricsObserver} records when it ends. */
class TimedCall {
  readonly started = performance.now();
  constructor(
    readonly actorType: string,
    readonly method: string,
  ) {}
}

const callMetricsObserver: Observer<OutboundContext> = {
  begin(ctx) {
    return ctx.kind === "call" ? new TimedCall(ctx.actorType, ctx.method) : undefined;
  },
  end(timed, error, failed) {
    if (!(timed instanceof TimedCall)) return;
    const ms = performance.now() - timed.started;
    if (failed) recordCall(timed.actorType, timed.method, ms, errorType(error));
    else recordCall(timed.actorType, timed.method, ms);
  },
};

const OK = { ok: true } as const;

/**
 * The interceptor form of an observer: begins, runs the rest of the chain in the context
 * `contextOf` names (if any) and ends with its outcome. Nothing to end (`begin` returned
 * undefined, an unsampled hop): the rest of the chain still runs in that context, without a
 * promise of this link's.
 */
function chainForm<C>(
  name: string,
  observer: Observer<C>,
  contextOf: (ctx: C, token: unknown) => Context | undefined,
): (ctx: C, next: () => Promise<unknown>) => Promise<unknown> {
  const form = (ctx: C, next: () => Promise<unknown>): Promise<unknown> => {
    const token = observer.begin(ctx);
    const inside = contextOf(ctx, token);
    // Settled as the synchronous form settles what it took (sync-links.ts).
    return runTaken(
      token === undefined ? undefined : new Taken(observer as Observer<unknown>, token),
      inside ? () => context.with(inside, next) : next,
    );
  };
  // Interceptor failures and `host.inbound` name a link by its function's name.
  return Object.defineProperty(form, "name", { value: name });
}

/** Outbound: the sampled hop's context (an unsampled one's is the active context already). */
const outboundContext = (_ctx: OutboundContext, hop: unknown): Context | undefined =>
  hop === undefined ? undefined : (hop as Hop).context;
/** Inbound: the turn's scope, which `begin` sets for sampled and unsampled turns alike. */
const turnContext = (ctx: InboundContext): Context | undefined =>
  ctx.scope instanceof Hop ? ctx.scope.context : undefined;
const noContext = (): undefined => undefined;

const idle = (): boolean => activeTracer() === undefined;
const metricsIdle = (): boolean => !metricsEnabled();

/**
 * The built-in outbound tracing interceptor: a span per call, tell, enqueue and publish, its
 * context carried in the message's headers. Installed by `connect()` first in the chain; list it
 * in `interceptors` to put it elsewhere, or pass `builtinInterceptors: false` to leave it out.
 */
export const outboundTracing: OutboundInterceptor & Idling = Object.assign(
  chainForm("tracing", outboundObserver, outboundContext),
  { idle, observe: outboundObserver, [TRUSTED_LINK]: true as const },
);

/**
 * The built-in call metrics interceptor: `troupe.calls` and `troupe.call.duration` per finished
 * call (idle without a MeterProvider). Installed by `connect()` after `outboundTracing`.
 */
export const callMetrics: OutboundInterceptor & Idling = Object.assign(
  chainForm("metrics", callMetricsObserver, noContext),
  { idle: metricsIdle, observe: callMetricsObserver, [TRUSTED_LINK]: true as const },
);

/**
 * The built-in inbound tracing interceptor: one span per turn a host runs (calls, tells, jobs,
 * events, reminders), the turn run in its context. Installed by `mesh.host()` first in the chain;
 * list it in `interceptors` to put it elsewhere, or pass `builtinInterceptors: false` to leave it
 * out.
 */
export const inboundTracing: InboundInterceptor & Idling = Object.assign(
  chainForm("tracing", inboundObserver, turnContext),
  { idle, observe: inboundObserver, [TRUSTED_LINK]: true as const },
);
