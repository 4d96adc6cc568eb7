/**
 * Trace and span ids as lower-case hex. Random bytes come from a pooled `crypto.randomFillSync`
 * (one system call per 512 ids) and are rendered by Buffer's native hex encoder, which returns a
 * flat string: ids built by concatenating pieces are rope strings that V8 must flatten, once per
 * span, when the OTLP encoder reads them.
 */
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
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

/** A 16-byte trace id: 32 hex characters, not all zero. */
export function newTraceId(): string {
  return randomHex(16);
}

/** An 8-byte span id: 16 hex characters, not all zero. */
export function newSpanId(): string {
  return randomHex(8);
}
