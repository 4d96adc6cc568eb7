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
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import type { MessageHeaders } from "../transport/index.js";
import { LIGHT_ROOT } from "./light-context.js";
import { CheckedSpanContext } from "./tracer/ids.js";

export const TRACEPARENT_HEADER = "traceparent";
export const TRACESTATE_HEADER = "tracestate";
const BAGGAGE_HEADER = "baggage";

/**
 * Whether the global propagator is the one `registerGlobally()` installed (W3C trace context, then
 * W3C baggage). Then the common cases (a `traceparent` of version 00, no `tracestate`, no baggage)
 * are written and read here directly, with exactly the W3C propagator's result, without the
 * propagation API's getter/setter round trips and regular expressions; anything else goes through
 * the registered propagator.
 */
let standardPropagation = false;

/** @internal Set by `registerGlobally()` when its propagator was registered (and reset on shutdown). */
export function useStandardPropagation(on: boolean): void {
  standardPropagation = on;
}

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
 * The headers carrying `sc` as the span a message is sent under, `ctx` being the context it was
 * sent from (for its baggage): what `injectContext(trace.setSpanContext(ctx, sc), {})` writes, built
 * directly when the propagator is the standard one and there is no baggage.
 */
export function headersFor(ctx: Context, sc: SpanContext): Record<string, string> {
  if (!standardPropagation || propagation.getBaggage(ctx) !== undefined) {
    return injectContext(trace.setSpanContext(ctx, sc), {});
  }
  // The W3C propagator's own rendering, flags included (`0` + hex).
  const traceparent = `00-${sc.traceId}-${sc.spanId}-0${Number(sc.traceFlags || TraceFlags.NONE).toString(16)}`;
  const state = sc.traceState?.serialize();
  return state ? { [TRACEPARENT_HEADER]: traceparent, [TRACESTATE_HEADER]: state } : { traceparent };
}

/**
 * The trace context carried by `headers`, on top of the ROOT context: an inbound message's spans
 * never inherit whatever context happened to be active when the subscription was created.
 */
export function extractContext(headers: MessageHeaders | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  if (standardPropagation && !headers.has(TRACESTATE_HEADER) && !headers.has(BAGGAGE_HEADER)) {
    const traceparent = headers.get(TRACEPARENT_HEADER);
    if (traceparent === "") return ROOT_CONTEXT;
    const sc = parseTraceparent(traceparent);
    // On the light root: the turn's context is built per message (light-context.ts).
    if (sc) return trace.setSpanContext(LIGHT_ROOT, sc);
    // Anything but the canonical version-00 form: the propagator decides (and may refuse it).
  }
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

/**
 * A canonical version-00 `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, lower case, ids not all
 * zero) as a remote span context; undefined for anything else, which the caller then hands to the
 * registered propagator. Accepts exactly what the W3C propagator accepts in that form.
 */
export function parseTraceparent(value: string): SpanContext | undefined {
  if (
    value.length !== 55 ||
    value.charCodeAt(0) !== 48 ||
    value.charCodeAt(1) !== 48 ||
    value.charCodeAt(2) !== 45 ||
    value.charCodeAt(35) !== 45 ||
    value.charCodeAt(52) !== 45 ||
    !lowerHex(value, 3, 35) ||
    !lowerHex(value, 36, 52) ||
    !lowerHex(value, 53, 55) ||
    allZero(value, 3, 35) ||
    allZero(value, 36, 52)
  ) {
    return undefined;
  }
  return new CheckedSpanContext(
    value.slice(3, 35),
    value.slice(36, 52),
    hexDigit(value.charCodeAt(53)) * 16 + hexDigit(value.charCodeAt(54)),
    true,
  );
}

function lowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The value of a lower-case hex digit (checked by {@link lowerHex}). */
function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

function allZero(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 48) return false;
  return true;
}
