/**
 * Headers as interceptors see them, built only when a chain runs.
 */
import type { MessageHeaders } from "../transport/index.js";
import type { ReadonlyHeaders } from "./interceptor.js";

const NO_HEADERS: ReadonlyHeaders = { get: () => undefined, has: () => false, keys: () => [] };

/** Read access to a message's headers (`get` says undefined, not "", for a missing key). */
export function readonlyHeaders(headers: MessageHeaders | undefined): ReadonlyHeaders {
  return headers ? new HeadersView(headers) : NO_HEADERS;
}

// A class, not an object of three closures: one allocation per traced turn.
class HeadersView implements ReadonlyHeaders {
  constructor(private readonly headers: MessageHeaders) {}
  get(name: string): string | undefined {
    return this.headers.has(name) ? this.headers.get(name) : undefined;
  }
  has(name: string): boolean {
    return this.headers.has(name);
  }
  keys(): string[] {
    return this.headers.keys();
  }
}

/** Read access to a header record (calls delivered in-process). */
export function recordHeaders(record: Record<string, string>): MessageHeaders {
  return { get: (k) => record[k] ?? "", has: (k) => k in record, keys: () => Object.keys(record) };
}
