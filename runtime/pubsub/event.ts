/**
 * An event on the wire: its payload is the event value in msgpack (the one codec), or JSON when
 * the message carries the header `content-type: application/json` (so `nats pub` and other
 * non-Troupe publishers can take part). Decoding treats the bytes as untrusted (size cap, the
 * codec's structural checks).
 */
import { MalformedMessageError, PayloadTooLargeError } from "../errors.js";
import { decode, encode } from "../messaging/index.js";
import type { MessageHeaders } from "../transport/index.js";

export const CONTENT_TYPE_HEADER = "content-type";
export const JSON_CONTENT_TYPE = "application/json";
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** What a subscribed handler gets as its second argument. */
export interface EventInfo {
  /** The event's topic (`orders.created`), without the subject prefix. */
  readonly topic: string;
  /** The subscription: `<Type>_<method>`. */
  readonly subscription: string;
  /** Durable subscriptions: 1 on the first delivery, higher on redeliveries. Ephemeral: always 1. */
  readonly attempt: number;
  /** Durable subscriptions: the event's sequence in the events stream. */
  readonly seq?: number;
  /** Durable subscriptions: when the event was stored (server time, ms since the epoch). */
  readonly publishedAtMs?: number;
  /** The publisher's message id (`Nats-Msg-Id`), when it set one. */
  readonly msgId?: string;
  readonly durable: boolean;
}

export function encodeEvent(event: unknown): Uint8Array {
  return encode(event);
}

export function decodeEvent(
  bytes: Uint8Array,
  headers: MessageHeaders | undefined,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
): unknown {
  if (headers?.get(CONTENT_TYPE_HEADER) === JSON_CONTENT_TYPE) {
    if (bytes.length > maxBytes) {
      throw new PayloadTooLargeError(`event of ${bytes.length} bytes is larger than ${maxBytes}`);
    }
    try {
      return JSON.parse(Buffer.from(bytes).toString("utf8"), (k, v) =>
        k === "__proto__" || k === "constructor" || k === "prototype" ? undefined : v,
      );
    } catch (err) {
      throw new MalformedMessageError("event is not valid JSON", { cause: err });
    }
  }
  return decode(bytes, { maxBytes });
}
