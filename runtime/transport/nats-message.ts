/**
 * nats.js messages as the transport hands them on and sends them: received messages with their
 * decoded header block, the outcome a message on the reply inbox stands for, and outbound headers.
 */
import { type Msg, type MsgHdrs, MsgHdrsImpl } from "@nats-io/nats-core";
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
 * nats.js headers for an outbound message. `headers().set()` compiles and runs a regular
 * expression over every value and canonicalizes every key on each call (~0.3 µs of the ~1.2 µs a
 * one-header block costs to build and encode on the bench VM, paid by every traced call, job and
 * KV write); the map behind the public `MsgHdrsImpl.headers` field is filled directly instead,
 * after the same CR/LF check (a header block is line-based), keeping keys as given like `set()`
 * does with its default exact match.
 */
export function toNatsHeaders(h: Record<string, string>): MsgHdrs {
  const out = new MsgHdrsImpl();
  for (const k in h) {
    const v = h[k] as string;
    if (k === "" || hasLineBreak(k) || k.includes(":")) {
      throw new ConfigurationError(`invalid header name ${JSON.stringify(k)}`);
    }
    if (hasLineBreak(v)) throw new ConfigurationError(`header ${k}: values cannot contain CR or LF`);
    out.headers.set(k, [v.trim()]);
  }
  return out;
}

function hasLineBreak(s: string): boolean {
  return s.includes("\r") || s.includes("\n");
}
