/**
 * The OpenTelemetry SDK as Troupe's `startTelemetry()` sets it up (NodeTracerProvider: the
 * AsyncLocalStorage context manager, W3C propagation, always-on sampling, batch span processor),
 * with an exporter that drops the spans, optionally after serializing them to OTLP protobuf as
 * the OTLP/HTTP exporter does. For bench/hot-path.ts: what spans and export cost per call without
 * the network.
 */
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-node";

class DroppingExporter implements SpanExporter {
  bytes = 0;
  constructor(private readonly serialize: boolean) {}
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    if (this.serialize) this.bytes += ProtobufTraceSerializer.serializeRequest(spans)?.length ?? 0;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export async function startSdk(serialize: boolean): Promise<{ shutdown(): Promise<void> }> {
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new DroppingExporter(serialize))],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
