import type { MessageHeaders } from "../../runtime/transport/transport.js";

/**
 * What the subscriber side sees of a headers record, with nats.js semantics: exact-match keys and
 * "" for a missing key. (Transport round trips of headers are covered by the transport's tests.)
 */
export function receivedHeaders(sent: Record<string, string> | undefined): MessageHeaders | undefined {
  if (!sent) return undefined;
  const map = new Map(Object.entries(sent));
  return {
    get: (key) => map.get(key) ?? "",
    has: (key) => map.has(key),
    keys: () => [...map.keys()],
  };
}
