/**
 * {@link RecordedSpan}s as an OTLP `ExportTraceServiceRequest` in protobuf
 * (opentelemetry/proto/collector/trace/v1/trace_service.proto), written straight into one growing
 * buffer by a {@link ProtoWriter} (proto-writer.ts: nested messages, cached strings). This file
 * is the OTLP message layout: which field of which message holds what.
 */
import { type Attributes, type Link, type SpanContext, SpanKind } from "@opentelemetry/api";
import { FIXED32, FIXED64, LEN, ProtoWriter, VARINT } from "./proto-writer.js";
import type { InstrumentationScope, RecordedEvent, RecordedSpan } from "./span.js";

/** Span.flags bits: the parent's is_remote is known (0x100) and true (0x200). */
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

/** KeyValue list entries `field` of `attributes`. */
function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    w.tag(field, LEN);
    const kv = w.begin();
    w.tag(1, LEN);
    w.cachedString(key);
    w.tag(2, LEN);
    const any = w.begin();
    writeAnyValue(w, value);
    w.end(any);
    w.end(kv);
  }
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function writeAnyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case "string":
      w.tag(1, LEN);
      w.string(value);
      return;
    case "boolean":
      w.tag(2, VARINT);
      w.varint(value ? 1 : 0);
      return;
    case "number":
      if (
        Number.isSafeInteger(value) ||
        (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64)
      ) {
        w.tag(3, VARINT);
        w.varint(value);
      } else {
        w.tag(4, FIXED64);
        w.double(value);
      }
      return;
    default:
      if (Array.isArray(value)) {
        w.tag(5, LEN);
        const array = w.begin();
        for (const item of value) {
          w.tag(1, LEN);
          const any = w.begin();
          if (item !== null && item !== undefined) writeAnyValue(w, item);
          w.end(any);
        }
        w.end(array);
      }
  }
}

function writeEvent(w: ProtoWriter, event: RecordedEvent): void {
  w.tag(11, LEN);
  const at = w.begin();
  w.tag(1, FIXED64);
  w.fixed64EpochNanos(event.timeMs);
  w.tag(2, LEN);
  w.cachedString(event.name);
  writeAttributes(w, 3, event.attributes);
  w.count(4, event.droppedAttributesCount);
  w.end(at);
}

/** trace_id, span_id and trace_state of a span context: fields 1 to 3 of both Span and Span.Link. */
function writeContextIds(w: ProtoWriter, ctx: SpanContext): void {
  w.tag(1, LEN);
  w.hexId(ctx.traceId);
  w.tag(2, LEN);
  w.hexId(ctx.spanId);
  const state = ctx.traceState?.serialize();
  if (state) {
    w.tag(3, LEN);
    w.string(state);
  }
}

function writeLink(w: ProtoWriter, link: Link): void {
  w.tag(13, LEN);
  const at = w.begin();
  writeContextIds(w, link.context);
  if (link.attributes) writeAttributes(w, 4, link.attributes);
  w.count(5, link.droppedAttributesCount);
  w.tag(6, FIXED32);
  w.fixed32(
    (link.context.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (link.context.isRemote ? FLAG_IS_REMOTE : 0),
  );
  w.end(at);
}

function writeSpan(w: ProtoWriter, span: RecordedSpan): void {
  const ctx = span.spanContext();
  w.tag(2, LEN); // ScopeSpans.spans
  const at = w.begin(2); // a span is almost always 128 to 16,383 bytes long
  writeContextIds(w, ctx);
  const parent = span.parent;
  if (parent) {
    w.tag(4, LEN);
    w.hexId(parent.spanId);
  }
  w.tag(5, LEN);
  w.cachedString(span.name);
  w.tag(6, VARINT);
  w.varint((span.kind ?? SpanKind.INTERNAL) + 1); // the proto's 0 is UNSPECIFIED
  w.tag(7, FIXED64);
  w.fixed64EpochNanos(span.startMs);
  w.tag(8, FIXED64);
  w.fixed64EpochNanos(span.endMs);
  writeAttributes(w, 9, span.attributes);
  w.count(10, span.droppedAttributesCount);
  if (span.events) for (const event of span.events) writeEvent(w, event);
  w.count(12, span.droppedEventsCount);
  if (span.links) for (const link of span.links) writeLink(w, link);
  w.count(14, span.droppedLinksCount);
  if (span.status.code !== 0 || span.status.message) {
    w.tag(15, LEN);
    const status = w.begin();
    if (span.status.message) {
      w.tag(2, LEN);
      w.string(span.status.message);
    }
    w.tag(3, VARINT);
    w.varint(span.status.code);
    w.end(status);
  }
  w.tag(16, FIXED32);
  w.fixed32((ctx.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (parent?.isRemote ? FLAG_IS_REMOTE : 0));
  w.end(at, 2);
}

function writeScope(w: ProtoWriter, scope: InstrumentationScope, spans: RecordedSpan[]): void {
  w.tag(2, LEN); // ResourceSpans.scope_spans
  const at = w.begin(3); // a batch of spans: up to 2 MiB without moving it
  w.tag(1, LEN);
  const s = w.begin();
  w.tag(1, LEN);
  w.cachedString(scope.name);
  if (scope.version) {
    w.tag(2, LEN);
    w.cachedString(scope.version);
  }
  w.end(s);
  for (const span of spans) writeSpan(w, span);
  w.end(at, 3);
}

/**
 * Encodes spans of one resource. One encoder per exporter: it keeps its buffer and string cache
 * between batches (the bytes returned are a copy).
 */
export class OtlpTraceEncoder {
  private readonly w = new ProtoWriter();

  constructor(private readonly resource: Attributes) {}

  encode(spans: readonly RecordedSpan[]): Uint8Array {
    const w = this.w;
    w.reset();
    const byScope = new Map<InstrumentationScope, RecordedSpan[]>();
    for (const span of spans) {
      const list = byScope.get(span.owner.scope);
      if (list) list.push(span);
      else byScope.set(span.owner.scope, [span]);
    }
    w.tag(1, LEN); // ExportTraceServiceRequest.resource_spans
    const rs = w.begin(3);
    w.tag(1, LEN); // ResourceSpans.resource
    const r = w.begin();
    writeAttributes(w, 1, this.resource);
    w.end(r);
    for (const [scope, list] of byScope) writeScope(w, scope, list);
    w.end(rs, 3);
    // A copy: the buffer is reused by the next batch while this one may still be in flight
    // (Buffer#slice would share its memory).
    return Uint8Array.prototype.slice.call(w.buf, 0, w.pos);
  }
}
