/**
 * OTLP/HTTP protobuf export of {@link RecordedSpan}s: the SDK's HTTP export delegate (endpoint,
 * headers, timeout, compression and retries from `OTEL_EXPORTER_OTLP_*`, concurrency limit,
 * partial-success handling) with {@link OtlpTraceEncoder} as its serializer.
 */
import type { Attributes } from "@opentelemetry/api";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from "@opentelemetry/otlp-exporter-base/node-http";
import {
  type IExportTraceServiceResponse,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import { OtlpTraceEncoder } from "./otlp-encoder.js";
import type { RecordedSpan } from "./span.js";

/** The `otel.component.type` the SDK's own OTLP/HTTP span exporter reports. */
const COMPONENT_TYPE = "otlp_http_span_exporter";

export class OtlpHttpSpanExporter extends OTLPExporterBase<RecordedSpan[]> {
  constructor(resource: Attributes) {
    const encoder = new OtlpTraceEncoder(resource);
    super(
      createOtlpHttpExportDelegate<RecordedSpan[], IExportTraceServiceResponse>(
        convertLegacyHttpOptions({}, "TRACES", "v1/traces", { "Content-Type": "application/x-protobuf" }),
        {
          serializeRequest: (spans) => encoder.encode(spans),
          deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
        },
        COMPONENT_TYPE,
        TraceExporterMetricsHelper as never,
        undefined,
      ),
    );
  }
}
