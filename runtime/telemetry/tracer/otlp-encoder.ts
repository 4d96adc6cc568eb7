/**
 * {@link RecordedSpan}s as an OTLP `ExportTraceServiceRequest` in protobuf
 * (opentelemetry/proto/collector/trace/v1/trace_service.proto), written straight into one growing
 * buffer. Nested messages reserve one byte for their length and move their body only when it
 * turns out longer than 127 bytes. Strings that repeat from span to span (attribute keys, span
 * names, scope names) are UTF-8 encoded once and copied afterwards; values are not cached, since
 * many (actor ids, message ids) never repeat.
 */
import { type Attributes, type Link, type SpanContext, SpanKind } from "@opentelemetry/api";
import type { InstrumentationScope, RecordedEvent, RecordedSpan } from "./span.js";

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** Span.flags bits: the parent's is_remote is known (0x100) and true (0x200). */
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

const MAX_CACHED_STRINGS = 4096;
const MAX_CACHED_LENGTH = 128;

class ProtoWriter {
  buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  pos = 0;
  private readonly strings = new Map<string, Uint8Array>();
  private readonly encoder = new TextEncoder();

  reset(): void {
    this.pos = 0;
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** A uint32 field (a dropped-items count), left out when 0 as proto3 does. */
  count(field: number, value: number | undefined): void {
    if (!value) return;
    this.tag(field, VARINT);
    this.varint(value);
  }

  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let v = value;
    if (v >= 0 && v < 0x80000000) {
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    this.varint64(value);
  }

  /** int64 varint of any safe integer (negatives as two's complement, 10 bytes). */
  private varint64(value: number): void {
    let lo = value >>> 0;
    let hi = Math.floor(value / 0x100000000) >>> 0;
    if (value < 0) {
      const abs = -value;
      lo = ~(abs >>> 0) >>> 0;
      hi = ~Math.floor(abs / 0x100000000) >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    const buf = this.buf;
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    buf[this.pos++] = value & 0xff;
    buf[this.pos++] = (value >>> 8) & 0xff;
    buf[this.pos++] = (value >>> 16) & 0xff;
    buf[this.pos++] = (value >>> 24) & 0xff;
  }

  /** Epoch ms (double) as fixed64 nanoseconds, exactly: the product does not fit a double. */
  fixed64EpochNanos(ms: number): void {
    const seconds = Math.floor(ms / 1000);
    const nanos = Math.min(999_999_999, Math.max(0, Math.round((ms - seconds * 1000) * 1e6)));
    // seconds * 1e9 + nanos = a * 2^16 + b with a = hi16(seconds) * 1e9, b = lo16(seconds) * 1e9 + nanos.
    const a = Math.floor(seconds / 65536) * 1e9;
    const b = (seconds % 65536) * 1e9 + nanos;
    let lo = (a % 65536) * 65536 + (b % 0x100000000);
    const carry = Math.floor(lo / 0x100000000);
    lo %= 0x100000000;
    const hi = Math.floor(a / 65536) + Math.floor(b / 0x100000000) + carry;
    this.fixed32(lo);
    this.fixed32(hi);
  }

  double(value: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
  }

  bytes(data: Uint8Array): void {
    const len = data.length;
    this.varint(len);
    this.ensure(len);
    const buf = this.buf;
    let p = this.pos;
    if (len < 16) {
      for (let i = 0; i < len; i++) buf[p++] = data[i] as number;
    } else {
      buf.set(data, p);
      p += len;
    }
    this.pos = p;
  }

  /**
   * A length-delimited UTF-8 string. Short ASCII strings (most attribute values) are copied by a
   * loop, cheaper than a call into Buffer's native encoder; anything else goes to that encoder
   * (at most 3 bytes per UTF-16 unit).
   */
  string(s: string): void {
    const len = s.length;
    this.ensure(len * 3 + 5);
    if (len < 64) {
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === len) {
        buf[this.pos] = len; // < 128: one length byte
        this.pos = p;
        return;
      }
    }
    const reserve = len < 43 ? 1 : 2;
    const start = this.begin(reserve);
    this.pos += this.buf.write(s, start, "utf8");
    this.end(start, reserve);
  }

  /** Like `string`, for strings likely to repeat: keeps their bytes for next time. */
  cachedString(s: string): void {
    let bytes = this.strings.get(s);
    if (!bytes) {
      if (s.length > MAX_CACHED_LENGTH) {
        this.string(s);
        return;
      }
      if (this.strings.size >= MAX_CACHED_STRINGS) this.strings.clear();
      bytes = this.encoder.encode(s);
      this.strings.set(s, bytes);
    }
    this.bytes(bytes);
  }

  /** 32 or 16 hex characters as 16 or 8 bytes. */
  hexId(hex: string): void {
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < 2 * n; i += 2)
      buf[p++] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    this.pos = p;
  }

  /**
   * Starts a length-delimited body, reserving `reserve` bytes for its length (1: up to 127 bytes,
   * 2: up to 16,383); `end` moves the body when the guess was wrong. Returns the body's start.
   */
  begin(reserve = 1): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  end(start: number, reserve = 1): void {
    const length = this.pos - start;
    let size = 1;
    for (let v = length >>> 7; v > 0; v >>>= 7) size++;
    let at = start - reserve;
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(at + size, start, this.pos);
      this.pos += size - reserve;
    }
    const buf = this.buf;
    let v = length;
    while (v > 0x7f) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
  }
}

function nibble(c: number): number {
  // '0'-'9' → 0-9, 'a'-'f' / 'A'-'F' → 10-15
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

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
