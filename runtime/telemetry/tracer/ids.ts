/**
 * Trace and span ids as lower-case hex, from Math.random like the OpenTelemetry SDK's
 * RandomIdGenerator (ids must be unique, not secret), without its Buffer round trip.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 8 random hex characters, never all zero. */
function word(): string {
  const n = (Math.random() * 0x100000000) >>> 0 || 1;
  return (
    (HEX[n >>> 24] as string) +
    (HEX[(n >>> 16) & 0xff] as string) +
    (HEX[(n >>> 8) & 0xff] as string) +
    (HEX[n & 0xff] as string)
  );
}

/** A 16-byte trace id: 32 hex characters, not all zero. */
export function newTraceId(): string {
  return word() + word() + word() + word();
}

/** An 8-byte span id: 16 hex characters, not all zero. */
export function newSpanId(): string {
  return word() + word();
}
