/**
 * A protobuf writer into one growing buffer, for the OTLP encoder (otlp-encoder.ts). Nested
 * messages reserve one byte for their length and move their body only when it turns out longer
 * than 127 bytes. Strings that repeat from span to span (attribute keys, span names, scope names)
 * are UTF-8 encoded once and copied afterwards; values are not cached, since many (actor ids,
 * message ids) never repeat.
 */

// Wire types.
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;
export const FIXED32 = 5;

const MAX_CACHED_STRINGS = 4096;
const MAX_CACHED_LENGTH = 128;

export class ProtoWriter {
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
