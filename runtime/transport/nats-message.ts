/**
 * nats.js messages as the transport hands them on and sends them: received messages with their
 * decoded header block, the outcome a message on the reply inbox stands for, and outbound headers.
 */
import type { Msg, MsgHdrs } from "@nats-io/nats-core";
import { ConfigurationError } from "../errors.js";
import type { ReceivedHeaders } from "./headers.js";
import type { InboundMessage, RequestOutcome } from "./transport.js";

/** A message on the inbox: the broker's "no responders" status (503, no body), or a reply. */
export function outcomeOf(
  data: Uint8Array,
  h: ReceivedHeaders | undefined,
): Exclude<RequestOutcome, { kind: "settled" }> {
  return h && data.length === 0 && h.code === 503 ? NO_RESPONDERS : { kind: "reply", data, headers: h };
}

const NO_RESPONDERS = { kind: "no-responders" } as const;

/**
 * A received message whose header block was decoded by `headerBlockOf` (or found malformed):
 * subject and reply stay nats.js's lazily decoded ones.
 */
export class Inbound implements InboundMessage {
  constructor(
    private readonly msg: Msg,
    readonly headers: ReceivedHeaders | undefined,
    readonly malformedHeaders?: string,
  ) {}
  get subject(): string {
    return this.msg.subject;
  }
  get reply(): string | undefined {
    return this.msg.reply;
  }
  get data(): Uint8Array {
    return this.msg.data;
  }
}

/**
 * nats.js headers for an outbound message, as the header block nats.js would write for them.
 * `nc.publish()` only calls `encode()` on the headers it is given (nats.js 3.4, protocol.ts), so
 * the block is rendered here directly, byte for byte what `MsgHdrsImpl.encode()` makes of the same
 * keys and values (`NATS/1.0`, then `\r\n<key>: <trimmed value>` each, then `\r\n\r\n`), without
 * the Map, arrays and header object nats.js would build first: a traced call, tell or publish
 * carries one such block. Keys are kept as given (as `set()` does with its default exact match);
 * a key or value that would break the line-based block is refused first.
 *
 * The block is encoded into a slice of Buffer's pool with `encodeInto`: a fresh ArrayBuffer per
 * message, as `TextEncoder.encode` makes, cost a traced caller more than the rest of the block on
 * the machine of docs/benchmarks.md (~1.2 µs). An all-ASCII block (a `traceparent` is) fits the
 * slice exactly; any other is encoded on its own.
 * test/fuzz/outbound-headers.test.ts reads such blocks back through a real server.
 */
export function toNatsHeaders(h: Record<string, string>): MsgHdrs {
  let block = "";
  for (const k in h) {
    const v = h[k] as string;
    if (k === "" || hasLineBreak(k) || k.includes(":")) {
      throw new ConfigurationError(`invalid header name ${JSON.stringify(k)}`);
    }
    if (hasLineBreak(v)) throw new ConfigurationError(`header ${k}: values cannot contain CR or LF`);
    block += `\r\n${k}: ${v.trim()}`;
  }
  if (block === "") return NO_BLOCK;
  const text = `NATS/1.0${block}\r\n\r\n`;
  const out = Buffer.allocUnsafe(text.length);
  // UTF-8 takes one byte per UTF-16 unit only for ASCII: anything else does not fit and is not
  // read in full.
  const fitted = utf8.encodeInto(text, out).read === text.length;
  return new OutboundHeaders(fitted ? out : utf8.encode(text)) as unknown as MsgHdrs;
}

const utf8 = new TextEncoder();

/** A rendered header block: what nats.js's publish asks of its headers. */
class OutboundHeaders {
  constructor(private readonly block: Uint8Array) {}
  encode(): Uint8Array {
    return this.block;
  }
}

/** No keys: no block (an empty one, as nats.js encodes empty headers). */
const NO_BLOCK = new OutboundHeaders(new Uint8Array(0)) as unknown as MsgHdrs;

function hasLineBreak(s: string): boolean {
  return s.includes("\r") || s.includes("\n");
}
