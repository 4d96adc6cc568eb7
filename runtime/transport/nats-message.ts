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
 * The common block (all ASCII, as a `traceparent` is) is written in one pass into a slice of
 * Buffer's pool, the checks made on the way: no intermediate string, and no `TextEncoder`, whose
 * fresh ArrayBuffer per call cost a traced caller more than the rest of the block (profile in
 * docs/benchmarks.md). A non-ASCII character falls back to UTF-8 encoding of the same text.
 * test/fuzz/outbound-headers.test.ts reads such blocks back through a real server.
 */
export function toNatsHeaders(h: Record<string, string>): MsgHdrs {
  let bound = STATUS_LINE.length + 2;
  for (const k in h) bound += k.length + (h[k] as string).length + 4;
  if (bound === STATUS_LINE.length + 2) return NO_BLOCK;
  const out = Buffer.allocUnsafe(bound + 2);
  let at = out.write(STATUS_LINE, 0, "latin1");
  for (const k in h) {
    const v = h[k] as string;
    const value = v.trim();
    out[at++] = CR;
    out[at++] = LF;
    at = putAscii(out, at, k, true);
    if (at === NAME_REFUSED) throw new ConfigurationError(`invalid header name ${JSON.stringify(k)}`);
    if (value.length !== v.length && hasLineBreak(v)) throw valueRefused(k);
    if (at !== NOT_ASCII) {
      out[at++] = COLON;
      out[at++] = SPACE;
      at = putAscii(out, at, value, false);
      if (at === NAME_REFUSED) throw valueRefused(k);
    }
    if (at === NOT_ASCII) return utf8Block(h);
  }
  out[at++] = CR;
  out[at++] = LF;
  out[at++] = CR;
  out[at++] = LF;
  return new OutboundHeaders(out.subarray(0, at)) as unknown as MsgHdrs;
}

const CR = 13;
const LF = 10;
const COLON = 58;
const SPACE = 32;
const STATUS_LINE = "NATS/1.0";
/** {@link putAscii}'s refusals: a character that would break the block, or one outside ASCII. */
const NAME_REFUSED = -1;
const NOT_ASCII = -2;

/**
 * Writes the ASCII string `s` at `at` and returns the offset after it; NAME_REFUSED for CR or LF
 * (or, in a name, `:` or emptiness), NOT_ASCII for a character above 127.
 */
function putAscii(out: Buffer, at: number, s: string, name: boolean): number {
  if (name && s.length === 0) return NAME_REFUSED;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return hasLineBreak(s) || (name && s.includes(":")) ? NAME_REFUSED : NOT_ASCII;
    if (c === CR || c === LF || (name && c === COLON)) return NAME_REFUSED;
    out[at + i] = c;
  }
  return at + s.length;
}

function valueRefused(k: string): ConfigurationError {
  return new ConfigurationError(`header ${k}: values cannot contain CR or LF`);
}

/** The block of headers with a non-ASCII character, as text encoded to UTF-8. */
function utf8Block(h: Record<string, string>): MsgHdrs {
  let block = "";
  for (const k in h) {
    const v = h[k] as string;
    if (hasLineBreak(k) || k.includes(":"))
      throw new ConfigurationError(`invalid header name ${JSON.stringify(k)}`);
    if (hasLineBreak(v)) throw valueRefused(k);
    block += `\r\n${k}: ${v.trim()}`;
  }
  return new OutboundHeaders(utf8.encode(`${STATUS_LINE}${block}\r\n\r\n`)) as unknown as MsgHdrs;
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
