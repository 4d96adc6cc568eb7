/**
 * Tracing as the first built-in interceptors: `connect()` and `mesh.host()` put them in their
 * chains unless told otherwise (docs/interceptors.md). Each is idle while no OpenTelemetry SDK is
 * registered, and a chain of nothing but idle built-ins is skipped, so untraced hops pay one check.
 *
 * Inbound, the span depends on the kind of turn (the table of `hops.ts`): a call's SERVER span or
 * a tell's CONSUMER span `process <Type>.<method>`, a job's or reminder's `process <queue>` (a
 * redelivery starts a new trace with a link), an event's `process <topic>`. The rest of the chain
 * runs in the span's context, and the turn's handler too (the span is the turn's scope), so user
 * spans are its children. An unsampled turn records nothing and runs in the extracted context.
 */
import { context } from "@opentelemetry/api";
import type { Idling, InboundContext, InboundInterceptor } from "../interceptors/index.js";
import { activeTracer, endHop, type Hop } from "./hop.js";
import { startEventSpan, startJobSpan, startTurnSpan } from "./hops.js";

function tracing(ctx: InboundContext, next: () => Promise<unknown>): Promise<unknown> {
  const hop = startInboundHop(ctx);
  if (!hop) return next();
  ctx.scope = hop;
  return context.with(hop.context, next).then(
    (value) => {
      endHop(hop);
      return value;
    },
    (err: unknown) => {
      endHop(hop, err);
      throw err;
    },
  );
}

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

const idle = (): boolean => activeTracer() === undefined;

/**
 * The built-in inbound tracing interceptor: one span per turn a host runs (calls, tells, jobs,
 * events, reminders), the turn run in its context. Installed by `mesh.host()` first in the chain;
 * list it in `interceptors` to put it elsewhere, or pass `builtinInterceptors: false` to leave it
 * out.
 */
export const inboundTracing: InboundInterceptor & Idling = Object.assign(tracing, { idle });
