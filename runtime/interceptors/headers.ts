/**
 * Headers as interceptors see them, built only when a chain runs.
 */
import type { MessageHeaders } from "../transport/index.js";
import type { ReadonlyHeaders } from "./interceptor.js";

const NO_HEADERS: ReadonlyHeaders = { get: () => undefined, has: () => false, keys: () => [] };

/** Read access to a message's headers (`get` says undefined, not "", for a missing key). */
export function readonlyHeaders(headers: MessageHeaders | undefined): ReadonlyHeaders {
  if (!headers) return NO_HEADERS;
  return {
    get: (name) => (headers.has(name) ? headers.get(name) : undefined),
    has: (name) => headers.has(name),
    keys: () => headers.keys(),
  };
}

/** Read access to a header record (calls delivered in-process). */
export function recordHeaders(record: Record<string, string>): MessageHeaders {
  return { get: (k) => record[k] ?? "", has: (k) => k in record, keys: () => Object.keys(record) };
}
