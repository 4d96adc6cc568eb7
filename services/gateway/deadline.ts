/**
 * The deadline of a call made through the gateway: the `Request-Timeout` header (milliseconds, or
 * a number with a unit `ms`, `s`, `m`, like `grpc-timeout`'s `500m`... spelled out), else the
 * `timeoutMs` query parameter, else the default; never more than the cap.
 */
import { BadRequestError } from "./errors.js";

export const REQUEST_TIMEOUT_HEADER = "request-timeout";

const UNIT_MS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000 };

export function parseDuration(raw: string, what: string): number {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,3}))?\s*(ms|s|m)?\s*$/.exec(raw);
  const unit = UNIT_MS[m?.[3] ?? ""];
  if (!m || unit === undefined) {
    throw new BadRequestError(
      `${what} must be a duration like 500, 500ms, 2s or 1m, got "${raw.slice(0, 40)}"`,
    );
  }
  const value = Number(`${m[1]}.${m[2] ?? "0"}`) * unit;
  if (!(value > 0)) throw new BadRequestError(`${what} must be positive`);
  return value;
}

/** The call's timeout in ms from the header or query value (header wins), capped at `maxMs`. */
export function deadlineOf(
  header: string | string[] | undefined,
  query: string | undefined,
  defaultMs: number,
  maxMs: number,
): number {
  const h = Array.isArray(header) ? header[0] : header;
  const wanted =
    h !== undefined
      ? parseDuration(h, "Request-Timeout")
      : query !== undefined
        ? parseDuration(query, "timeoutMs")
        : defaultMs;
  return Math.min(wanted, maxMs);
}
