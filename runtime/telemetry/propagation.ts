/**
 * W3C trace context (`traceparent`, `tracestate`) in NATS message headers. There is no standard
 * carrier for NATS; nats.js header lookups are exact-match, so keys are always written lower-case.
 * The format itself comes from the globally registered propagator (the SDK set up by
 * `startTelemetry()` registers W3C trace context and baggage).
 */
import {
  type Context,
  diag,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import type { MessageHeaders } from "../transport/transport.js";

export const TRACEPARENT_HEADER = "traceparent";
export const TRACESTATE_HEADER = "tracestate";

const setter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key.toLowerCase()] = value;
  },
};

const getter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => carrier.keys(),
  get(carrier, key) {
    // MessageHeaders.get returns "" for a missing key; propagators expect undefined.
    const value = carrier.get(key.toLowerCase());
    return value === "" ? undefined : value;
  },
};

/** Writes the trace context of `ctx` into `carrier` (lower-case keys) and returns the carrier. */
export function injectContext(ctx: Context, carrier: Record<string, string>): Record<string, string> {
  propagation.inject(ctx, carrier, setter);
  return carrier;
}

/**
 * The trace context carried by `headers`, on top of the ROOT context: an inbound message's spans
 * never inherit whatever context happened to be active when the subscription was created.
 */
export function extractContext(headers: MessageHeaders | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  try {
    return propagation.extract(ROOT_CONTEXT, headers, getter);
  } catch (err) {
    // Headers come from strangers: a registered propagator that throws on them must not fail the
    // message. Its span simply starts a new trace.
    diag.warn(
      `trace context not extracted from message headers: ${err instanceof Error ? err.message : String(err)}`,
    );
    return ROOT_CONTEXT;
  }
}

/** Ids of a context's span as lower-case hex, e.g. for log correlation; undefined when it has none. */
export function traceIdsOf(ctx: Context): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & 1) === 1 };
}
