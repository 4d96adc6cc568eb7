/**
 * Tracing as `startTelemetry()` sets it up (AsyncLocalStorage context manager, W3C propagation,
 * always-on sampling, batch span processor), with an exporter that drops the spans, optionally
 * after serializing them to OTLP protobuf as the OTLP/HTTP exporter does. For bench/hot-path.ts:
 * what spans and export cost per call without the network.
 *
 * `tracer: "troupe"` is Troupe's own tracer and OTLP encoder (runtime/telemetry/tracer/, what
 * `startTelemetry()` uses for OTLP/HTTP protobuf); `"sdk"` is the SDK's NodeTracerProvider and
 * its ProtobufTraceSerializer (`TROUPE_TRACER=sdk`, and the gRPC / JSON exporters).
 */
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { registerGlobally } from "../../runtime/telemetry/sdk.js";
import { OtlpTraceEncoder } from "../../runtime/telemetry/tracer/otlp-encoder.js";
import type { RecordedSpan } from "../../runtime/telemetry/tracer/span.js";
import { TroupeTracerProvider } from "../../runtime/telemetry/tracer/tracer.js";

class DroppingExporter implements SpanExporter {
  bytes = 0;
  constructor(private readonly serialize: ((spans: never[]) => Uint8Array | undefined) | undefined) {}
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    if (this.serialize) this.bytes += this.serialize(spans as never[])?.length ?? 0;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export type Tracer = "troupe" | "sdk";

/** `ratio` 1: always on; below 1: parent-based trace-id ratio (what deployments use). */
function samplerFor(ratio: number): Sampler {
  return ratio >= 1
    ? new AlwaysOnSampler()
    : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

export async function startSdk(
  serialize: boolean,
  tracer: Tracer,
  ratio = 1,
): Promise<{ shutdown(): Promise<void> }> {
  if (tracer === "sdk") {
    const provider = new NodeTracerProvider({
      sampler: samplerFor(ratio),
      spanProcessors: [
        new BatchSpanProcessor(
          new DroppingExporter(
            serialize
              ? (spans) => ProtobufTraceSerializer.serializeRequest(spans as ReadableSpan[])
              : undefined,
          ),
        ),
      ],
    });
    provider.register();
    return { shutdown: () => provider.shutdown() };
  }
  const encoder = new OtlpTraceEncoder({ "service.name": "hot-path" });
  const processor = new BatchSpanProcessor(
    new DroppingExporter(serialize ? (spans) => encoder.encode(spans as RecordedSpan[]) : undefined),
  );
  const provider = new TroupeTracerProvider({
    sampler: samplerFor(ratio),
    samplerIgnoresAttributes: true,
    samplerFollowsParent: ratio < 1,
    ...(ratio < 1 ? { rootRatio: ratio } : {}),
    processor: processor as never,
  });
  await registerGlobally(provider);
  return { shutdown: () => provider.shutdown() };
}
