/**
 * A traced hop: one span plus the context it runs in. Every `start*` function in `hops.ts`
 * returns `undefined` when no SDK is registered, and every function here accepts `undefined`
 * and then does nothing, so the runtime calls them unconditionally and pays one cheap check.
 */
import {
  type AttributeValue,
  type Context,
  context,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "./semconv.js";

export const TRACER_NAME = "troupe";

/** One span of a hop and the context that has it as the active span. */
export class Hop {
  /** @internal Use the `start*` functions of `hops.ts`. */
  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}
}

/** A hop that sends a message: `headers` carries its trace context (pass them to the transport). */
export class OutboundHop extends Hop {
  /** @internal */
  constructor(
    span: Span,
    ctx: Context,
    readonly headers: Record<string, string>,
  ) {
    super(span, ctx);
  }
}

// The api's no-op provider, as handed out by a proxy that has no delegate (public API only).
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

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
  }
  return cachedTracer;
}

/** Whether spans are recorded at all (an SDK is registered). */
export function tracingEnabled(): boolean {
  return activeTracer() !== undefined;
}

/** Runs `fn` with the hop's span as the active span (nested calls become its children). */
export function runInHop<T>(hop: Hop | undefined, fn: () => T): T {
  return hop ? context.with(hop.context, fn) : fn();
}

/** `fn.call(thisArg, arg)` with the hop's span as the active span, without a closure per call. */
export function callInHop<This, A, R>(
  hop: Hop | undefined,
  fn: (this: This, arg: A) => R,
  thisArg: This,
  arg: A,
): R {
  return hop ? context.with(hop.context, fn, thisArg, arg) : fn.call(thisArg, arg);
}

/** Adds an attribute to the hop's span (e.g. the target actor of a job). */
export function setHopAttribute(hop: Hop | undefined, key: string, value: AttributeValue): void {
  hop?.span.setAttribute(key, value);
}

/**
 * Ends the hop's span. With `error`, records it first: `error.type` (the error's `code` if it has
 * one, else its class name), the exception event, and status ERROR. `undefined` means success.
 */
export function endHop(hop: Hop | undefined, error?: unknown): void {
  if (!hop) return;
  if (error !== undefined) recordError(hop.span, error);
  hop.span.end();
}

/** {@link endHop} for a settled outcome (`TurnOutcome` and the like). */
export function endHopWith(
  hop: Hop | undefined,
  outcome: { readonly ok: boolean; readonly error?: unknown },
): void {
  if (!hop) return;
  if (!outcome.ok) recordError(hop.span, outcome.error ?? "undefined");
  hop.span.end();
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
