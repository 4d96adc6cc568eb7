/**
 * `connect({ outbox })` options, their defaults, and their validation (a value the outbox cannot
 * honour fails at `connect()`, naming the option).
 */
import { ConfigurationError } from "../errors.js";

export interface OutboxOptions {
  /** Directory of the outbox's files (created if missing). One process owns it at a time. */
  path: string;
  /** Bytes of pending entries at most (as stored); beyond, sends fail with OutboxFullError. Default 256 MiB. */
  maxBytes?: number;
  /** Pending entries at most; beyond, sends fail with OutboxFullError. Default 1,000,000. */
  maxMessages?: number;
  /**
   * An entry not forwarded this long after it was written moves to the outbox's dead letters,
   * with the reason. Counted on the wall clock, across restarts. Default 7 days; 0: never.
   */
  ttlMs?: number;
  /** Entries forwarded at once (JetStream publishes in flight) after a reconnect. Default 256. */
  forwardWindow?: number;
}

export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_OUTBOX_MAX_MESSAGES = 1_000_000;
export const DEFAULT_OUTBOX_TTL_MS = 7 * 24 * 3600_000;
export const DEFAULT_FORWARD_WINDOW = 256;

export type ResolvedOutboxOptions = Required<OutboxOptions>;

export function resolveOutboxOptions(options: unknown): ResolvedOutboxOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigurationError("outbox must be an object with at least a path", {
      details: { option: "outbox" },
    });
  }
  const o = options as Record<string, unknown>;
  if (typeof o.path !== "string" || o.path.length === 0) {
    throw new ConfigurationError("outbox.path must be a directory path", {
      details: { option: "outbox.path" },
    });
  }
  return {
    path: o.path,
    maxBytes: count(o, "maxBytes", DEFAULT_OUTBOX_MAX_BYTES),
    maxMessages: count(o, "maxMessages", DEFAULT_OUTBOX_MAX_MESSAGES),
    ttlMs: duration(o, "ttlMs", DEFAULT_OUTBOX_TTL_MS),
    forwardWindow: count(o, "forwardWindow", DEFAULT_FORWARD_WINDOW),
  };
}

function count(o: Record<string, unknown>, name: string, fallback: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new ConfigurationError(`outbox.${name} must be a positive integer, got ${String(v)}`, {
      details: { option: `outbox.${name}` },
    });
  }
  return v;
}

function duration(o: Record<string, unknown>, name: string, fallback: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v >= 0 && Number.isFinite(v))) {
    throw new ConfigurationError(`outbox.${name} must be a number of milliseconds >= 0, got ${String(v)}`, {
      details: { option: `outbox.${name}` },
    });
  }
  return v;
}
