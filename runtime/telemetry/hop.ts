/**
 * A traced hop: one span plus the context it runs in. Every `start*` function in `hops.ts`
 * returns `undefined` when no SDK is registered, and every function here accepts `undefined`
 * and then does nothing, so the runtime calls them unconditionally and pays one cheap check.
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  type Link,
  ProxyTracerProvider,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "./semconv.js";

export const TRACER_NAME = "troupe";

/**
 * One span of a hop and the context that has it as the active span. A hop that is not sampled has
 * no span (nothing is recorded); its context still carries the trace, unsampled, so that what runs
 * in it (user spans, calls it makes) stays in the trace and unsampled too.
 */
export class Hop {
  /** @internal Use the `start*` functions of `hops.ts`. */
  constructor(
    readonly span: Span | undefined,
    readonly context: Context,
  ) {}

  /** `fn.call(thisArg, arg)` in this hop's context (a turn's scope: its handler's spans are children). */
  call<This, A, R>(fn: (this: This, arg: A) => R, thisArg: This, arg: A): R {
    return callInHop(this, fn, thisArg, arg);
  }
}

/** A hop that sends a message: `headers` carries its trace context (pass them to the transport). */
export class OutboundHop extends Hop {
  /** @internal */
  constructor(
    span: Span | undefined,
    ctx: Context,
    readonly headers: Record<string, string>,
  ) {
    super(span, ctx);
  }
}

/**
 * A tracer that can decide sampling before a span's name and attributes exist (Troupe's tracer,
 * when its sampler ignores attributes, as the standard samplers do): Troupe's hops then build
 * nothing for a hop that is not sampled.
 */
export interface HopTracer extends Tracer {
  /** True when {@link decideHop} may be used (its sampler ignores names, attributes and links). */
  readonly decidesHops: boolean;
  /**
   * The span context a span started under `ctx` gets: sampled (then call {@link startDecided}) or
   * not (then nothing is recorded, and it is the parent's own span context when that is unsampled
   * too). Undefined when tracing is suppressed in `ctx`.
   */
  decideHop(ctx: Context, kind: SpanKind): SpanContext | undefined;
  /** Records the span `decideHop` sampled. */
  startDecided(
    sc: SpanContext,
    ctx: Context,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links?: Link[],
  ): Span;
}

// The api's no-op provider, as handed out by a proxy that has no delegate (public API only).
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;
let cachedHopTracer: HopTracer | undefined;

/**
 * The tracer to use, or undefined when no tracer provider is registered (tracing off). Re-resolved
 * when the registered provider changes, so a provider registered later (or replaced) is picked up.
 */
export function activeTracer(): Tracer | undefined {
  const registered = trace.getTracerProvider();
  const provider = registered instanceof ProxyTracerProvider ? registered.getDelegate() : registered;
  if (provider === NOOP_PROVIDER) return undefined;
  if (provider !== cachedProvider) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(TRACER_NAME);
    const t = cachedTracer as Partial<HopTracer>;
    cachedHopTracer =
      t.decidesHops === true && typeof t.decideHop === "function" && typeof t.startDecided === "function"
        ? (cachedTracer as HopTracer)
        : undefined;
  }
  return cachedTracer;
}

/** The active tracer when it is a {@link HopTracer}; call right after {@link activeTracer}. */
export function activeHopTracer(): HopTracer | undefined {
  return cachedHopTracer;
}

/** Whether spans are recorded at all (an SDK is registered). */
export function tracingEnabled(): boolean {
  return activeTracer() !== undefined;
}

/** Runs `fn` with the hop's span as the active span (nested calls become its children). */
export function runInHop<T>(hop: Hop | undefined, fn: () => T): T {
  return hop ? context.with(hop.context, fn) : fn();
}

function callWith<This, A, R>(fn: (this: This, arg: A) => R, thisArg: This, arg: A): R {
  return fn.call(thisArg, arg);
}

/** `fn.call(thisArg, arg)` with the hop's span as the active span, without a closure per call. */
export function callInHop<This, A, R>(
  hop: Hop | undefined,
  fn: (this: This, arg: A) => R,
  thisArg: This,
  arg: A,
): R {
  // No `thisArg` for context.with: the context manager would bind `fn` to it (a closure per turn).
  if (!hop) return fn.call(thisArg, arg);
  return context.with(hop.context, callWith<This, A, R>, undefined, fn, thisArg, arg);
}

/** Adds an attribute to the hop's span (e.g. the target actor of a job). */
export function setHopAttribute(hop: Hop | undefined, key: string, value: AttributeValue): void {
  hop?.span?.setAttribute(key, value);
}

/**
 * Ends the hop's span. With `error`, records it first: `error.type` (the error's `code` if it has
 * one, else its class name), the exception event, and status ERROR. `undefined` means success.
 */
export function endHop(hop: Hop | undefined, error?: unknown): void {
  const span = hop?.span;
  if (!span) return;
  if (error !== undefined) recordError(span, error);
  span.end();
}

/** {@link endHop} for a settled outcome (`TurnOutcome` and the like). */
export function endHopWith(
  hop: Hop | undefined,
  outcome: { readonly ok: boolean; readonly error?: unknown },
): void {
  const span = hop?.span;
  if (!span) return;
  if (!outcome.ok) recordError(span, outcome.error ?? "undefined");
  span.end();
}

/** The `error.type` of an error: its string `code` when it has one, else its class name. */
export function errorType(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && name !== "" && name !== "Object") return name;
    const ownName = (error as { name?: unknown }).name;
    if (typeof ownName === "string" && ownName !== "") return ownName;
  }
  return "_OTHER";
}

function recordError(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
