/**
 * Troupe's tracer provider: the `TracerProvider` / `Tracer` of `@opentelemetry/api`, recording
 * {@link RecordedSpan}s and handing ended, sampled ones to a span processor (the SDK's batch
 * processor in `startTelemetry()`), whose exporter encodes them with `otlp-encoder.ts`.
 *
 * Why not the SDK's tracer: at 100% sampling the SDK's span (id buffers, attribute sanitizing twice,
 * HrTime arithmetic, its own metrics) and its OTLP serializer cost ~20 µs per span on the bench
 * machine, more than the call being traced (docs/benchmarks.md). Sampling, context, propagation,
 * batching and the HTTP exporter remain the SDK's; spans from user code made through
 * `trace.getTracer()` go through this provider too and export the same way.
 */
import {
  type Attributes,
  type Context,
  context as contextApi,
  type Link,
  SamplingDecision,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";
import type { Sampler } from "@opentelemetry/sdk-trace-node";
import type { HopTracer } from "../hop.js";
import {
  CheckedSpanContext,
  newRootSpanContext,
  newSpanId,
  newTraceId,
  ratioUpperBound,
  validParent,
} from "./ids.js";
import { type InstrumentationScope, nowMs, RecordedSpan, type SpanLimits, toEpochMs } from "./span.js";

/** Receives every recorded span when it ends (sampled or not: the processor decides). */
export interface RecordedSpanProcessor {
  onEnd(span: RecordedSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TroupeTracerProviderOptions {
  sampler: Sampler;
  /**
   * The sampler decides from the parent context and the trace id alone, as the standard samplers
   * (always on/off, trace-id ratio, parent-based over those) do, and adds no attributes or trace
   * state: Troupe's hops may then decide before building a span's name and attributes, and build
   * nothing for a span that is not sampled. Default false.
   */
  samplerIgnoresAttributes?: boolean;
  /**
   * The sampler is parent-based with the default delegates (`parentbased_*`): under a valid parent
   * the parent's sampled flag is the decision, and Troupe's hops read it without asking the sampler.
   * Default false.
   */
  samplerFollowsParent?: boolean;
  /**
   * The sampler decides a root span (no valid parent) by trace-id ratio, as `traceidratio` and
   * `parentbased_traceidratio` do, at this ratio: Troupe's hops then draw a root's ids and decide
   * in one step (`newRootSpanContext`), with the sampler's own algorithm. Only with
   * `samplerIgnoresAttributes`.
   */
  rootRatio?: number;
  processor: RecordedSpanProcessor;
  limits?: Partial<SpanLimits>;
}

/**
 * Limits from `OTEL_SPAN_*_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`,
 * `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT` and `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` (the SDK's defaults:
 * 128 each, no length limit).
 */
export function spanLimitsFromEnv(env: NodeJS.ProcessEnv): SpanLimits {
  const num = (name: string, fallback: number) => {
    const v = Number(env[name]);
    return env[name] !== undefined && env[name] !== "" && Number.isInteger(v) && v >= 0 ? v : fallback;
  };
  return {
    attributeCount: num("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", num("OTEL_ATTRIBUTE_COUNT_LIMIT", 128)),
    eventCount: num("OTEL_SPAN_EVENT_COUNT_LIMIT", 128),
    linkCount: num("OTEL_SPAN_LINK_COUNT_LIMIT", 128),
    attributesPerEvent: num("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 128),
    attributesPerLink: num("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 128),
    attributeValueLength: num(
      "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      num("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", Number.POSITIVE_INFINITY),
    ),
  };
}

export class TroupeTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, TroupeTracer>();
  readonly limits: SpanLimits;

  constructor(private readonly options: TroupeTracerProviderOptions) {
    this.limits = {
      attributeCount: 128,
      eventCount: 128,
      linkCount: 128,
      attributesPerEvent: 128,
      attributesPerLink: 128,
      attributeValueLength: Number.POSITIVE_INFINITY,
      ...options.limits,
    };
  }

  getTracer(name: string, version?: string): Tracer {
    const key = `${name}@${version ?? ""}`;
    let tracer = this.tracers.get(key);
    if (!tracer) {
      tracer = new TroupeTracer(
        { name, version },
        this.limits,
        this.options.sampler,
        this.options.processor,
        this.options.samplerIgnoresAttributes === true,
        this.options.samplerFollowsParent === true,
        this.options.rootRatio === undefined ? undefined : ratioUpperBound(this.options.rootRatio),
      );
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  forceFlush(): Promise<void> {
    return this.options.processor.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.options.processor.shutdown();
  }
}

class TroupeTracer implements HopTracer {
  constructor(
    readonly scope: InstrumentationScope,
    readonly limits: SpanLimits,
    private readonly sampler: Sampler,
    private readonly processor: RecordedSpanProcessor,
    readonly decidesHops: boolean,
    private readonly followsParent: boolean,
    /** `ratioUpperBound` of the sampler's root ratio, when it decides roots by trace-id ratio. */
    private readonly rootUpperBound: number | undefined,
  ) {}

  /**
   * The sampling decision of {@link startSpan}, made before the span has a name or attributes (see
   * `samplerIgnoresAttributes`). Not sampled: nothing is allocated when the parent is an unsampled
   * span already (its context is passed on as is: no span of an unsampled trace is ever exported,
   * so which span id it carries does not matter), else a fresh unsampled context.
   */
  decideHop(ctx: Context, kind: SpanKind): SpanContext | undefined {
    if (isTracingSuppressed(ctx)) return undefined;
    const parent = validParent(trace.getSpanContext(ctx));
    if (!parent && this.rootUpperBound !== undefined) return newRootSpanContext(this.rootUpperBound);
    const traceId = parent ? parent.traceId : newTraceId();
    const sampled =
      parent && this.followsParent
        ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0
        : this.sampler.shouldSample(ctx, traceId, "", kind, NO_ATTRIBUTES, NO_LINKS).decision ===
          SamplingDecision.RECORD_AND_SAMPLED;
    if (!sampled && parent && (parent.traceFlags & TraceFlags.SAMPLED) === 0) return parent;
    const traceState = parent?.traceState;
    const flags = sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
    return traceState
      ? { traceId, spanId: newSpanId(), traceFlags: flags, traceState }
      : new CheckedSpanContext(traceId, newSpanId(), flags, false);
  }

  startDecided(
    sc: SpanContext,
    ctx: Context,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links?: Link[],
  ): Span {
    const parent = validParent(trace.getSpanContext(ctx));
    return new RecordedSpan(this, sc, parent, name, kind, nowMs(), attributes, links);
  }

  /** @internal Called by a span when it ends. */
  onEnd(span: RecordedSpan): void {
    this.processor.onEnd(span);
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    if (options.root) ctx = trace.deleteSpan(ctx);
    if (isTracingSuppressed(ctx)) return trace.wrapSpanContext(INVALID);
    const parent = validParent(trace.getSpanContext(ctx));
    const traceId = parent ? parent.traceId : newTraceId();
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links: Link[] = options.links ?? NO_LINKS;
    const result = this.sampler.shouldSample(ctx, traceId, name, kind, options.attributes ?? {}, links);
    const traceState = result.traceState ?? parent?.traceState;
    const spanContext: SpanContext = {
      traceId,
      spanId: newSpanId(),
      traceFlags:
        result.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      ...(traceState ? { traceState } : {}),
    };
    if (result.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new RecordedSpan(
      this,
      spanContext,
      parent,
      name,
      kind,
      options.startTime === undefined ? nowMs() : toEpochMs(options.startTime),
      options.attributes,
      links.length > 0 ? links : undefined,
    );
    if (result.attributes) span.setAttributes(result.attributes);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a?: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> | undefined {
    let options: SpanOptions = {};
    let ctx: Context = contextApi.active();
    let fn: F | undefined;
    if (typeof a === "function") fn = a;
    else if (typeof b === "function") {
      options = a ?? {};
      fn = b;
    } else {
      options = a ?? {};
      ctx = b ?? contextApi.active();
      fn = c;
    }
    if (!fn) return undefined;
    const span = this.startSpan(name, options, ctx);
    return contextApi.with(trace.setSpan(ctx, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

const NO_LINKS: Link[] = [];
const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;
const INVALID: SpanContext = {
  traceId: "00000000000000000000000000000000",
  spanId: "0000000000000000",
  traceFlags: TraceFlags.NONE,
};
