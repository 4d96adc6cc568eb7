/**
 * Trace and span ids as lower-case hex. Random bytes come from a pooled `crypto.randomFillSync`
 * (one call per 16 KiB, ~680 root contexts: a fill costs about the same at 4 and at 16 KiB, so
 * the larger pool is a quarter of the cost per id) and are rendered by Buffer's native hex
 * encoder, which returns a flat string: ids built by concatenating pieces are rope strings that
 * V8 must flatten, once per span, when the OTLP encoder reads them.
 */
import { randomFillSync } from "node:crypto";
import { type SpanContext, TraceFlags, trace } from "@opentelemetry/api";

/**
 * A span context whose ids are known to be valid: drawn here, or parsed from a canonical
 * `traceparent` (propagation.ts). {@link validParent} then need not check them again with the
 * api's regular expressions, which it would do for every hop under it.
 */
export class CheckedSpanContext implements SpanContext {
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly traceFlags: number,
    readonly isRemote: boolean,
  ) {}
}

/** `sc` when it is a valid span context (`trace.isSpanContextValid`), else undefined. */
export function validParent(sc: SpanContext | undefined): SpanContext | undefined {
  return sc && (sc instanceof CheckedSpanContext || trace.isSpanContextValid(sc)) ? sc : undefined;
}

const POOL_BYTES = 16384;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // An all-zero id is invalid (W3C trace context); with 64 or 128 random bits it never happens,
    // but check rather than hope.
    for (let i = start; i < start + bytes; i++)
      if (pool[i] !== 0) return pool.toString("hex", start, start + bytes);
  }
}

/**
 * A new root span context: fresh trace and span ids from one draw of random bytes, sampled when a
 * trace-id ratio sampler whose bound is `upperBound` would sample that trace id. The decision is
 * the SDK's `TraceIdRatioBasedSampler` algorithm (the four 32-bit words of the trace id XORed,
 * below `floor(ratio × 0xffffffff)`, or `2^32` at ratio 1) read from the bytes instead of parsed
 * back from the hex: what a deployment's sampler at 1–10% does for every call that starts a trace.
 */
export function newRootSpanContext(upperBound: number): SpanContext {
  for (;;) {
    if (offset + 24 > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += 24;
    if (allZero(start, start + 16) || allZero(start + 16, start + 24)) continue;
    const words =
      (pool.readUInt32BE(start) ^
        pool.readUInt32BE(start + 4) ^
        pool.readUInt32BE(start + 8) ^
        pool.readUInt32BE(start + 12)) >>>
      0;
    const hex = pool.toString("hex", start, start + 24);
    return new CheckedSpanContext(
      hex.slice(0, 32),
      hex.slice(32),
      words < upperBound ? TraceFlags.SAMPLED : TraceFlags.NONE,
      false,
    );
  }
}

/** The bound a trace-id ratio sampler compares against (the SDK's, for the same ratio). */
export function ratioUpperBound(ratio: number): number {
  const r = Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
  return r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
}

function allZero(from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (pool[i] !== 0) return false;
  return true;
}

/** A 16-byte trace id: 32 hex characters, not all zero. */
export function newTraceId(): string {
  return randomHex(16);
}

/** An 8-byte span id: 16 hex characters, not all zero. */
export function newSpanId(): string {
  return randomHex(8);
}
