/**
 * Keeps nats.js's read loop alive whatever a message holds. nats.js runs every subscription
 * callback inside its read loop (`for await (chunk of socket) parser.parse(chunk)`), and an
 * exception there ends the loop with the socket still open: the process silently stops hearing
 * anything until its ping timer notices, minutes later. One wrapper around the protocol handler's
 * message dispatch (the single place every received message passes through) closes that door:
 *
 * - a message with a malformed header block (see `headers.ts`) meant for one of nats.js's own
 *   subscriptions (request replies of `nc.request()`, JetStream and KV consumers) reaches it
 *   without its header block, so nats.js's decoder (which throws, and is quadratic) never sees it;
 *   Troupe's own subscriptions, registered with {@link ReaderGuard.own}, get it as it is and
 *   answer with a typed refusal, a dead letter or a warning;
 * - an exception thrown by any callback is caught and logged (rate-limited) instead of ending the
 *   read loop.
 *
 * It relies on two members of nats.js's `ProtocolHandler` (`processMsg`, `subscriptions.get`); if
 * a nats.js version lacks them the guard says so once in the log and the reader watchdog
 * (`reader-watchdog.ts`) remains the safety net. A test pins that it is installed.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../log.js";
import { decodeHeaderBlock } from "./headers.js";
import type { WarnLimiter } from "./warn-limiter.js";

/** The parser's description of a received message (`MSG`/`HMSG` arguments). */
interface MsgArg {
  readonly subject: Uint8Array;
  readonly sid: number;
  /** Length of the header block, -1 when there is none. */
  readonly hdr: number;
  readonly size: number;
}

interface ProtocolHandlerInternals {
  processMsg(msg: MsgArg, data: Uint8Array): void;
  readonly subscriptions: { get(sid: number): unknown };
}

const decoder = new TextDecoder();

export class ReaderGuard {
  private readonly ours = new WeakSet<object>();
  /** False when this nats.js version does not have the members the guard wraps. */
  readonly installed: boolean;
  /** Messages whose header block was removed before nats.js's own subscriptions saw them. */
  stripped = 0;
  /** Exceptions thrown by subscription callbacks and caught here. */
  caught = 0;

  constructor(nc: NatsConnection, logger: Logger, warn: WarnLimiter) {
    const protocol = (nc as unknown as { protocol?: Partial<ProtocolHandlerInternals> }).protocol;
    const original = protocol?.processMsg;
    const subscriptions = protocol?.subscriptions;
    if (!protocol || typeof original !== "function" || typeof subscriptions?.get !== "function") {
      this.installed = false;
      logger.warn(
        "this nats.js version has no protocol.processMsg: malformed messages for nats.js's own subscriptions are not guarded (the reader watchdog still restarts a reader that died)",
      );
      return;
    }
    this.installed = true;
    protocol.processMsg = (msg: MsgArg, data: Uint8Array) => {
      let arg = msg;
      let bytes = data;
      if (arg.hdr > -1 && !this.isOurs(subscriptions.get(arg.sid))) {
        const block = decodeHeaderBlock(bytes.subarray(0, arg.hdr));
        if (!block.ok) {
          this.stripped++;
          warn.warn(
            "stripped-header-block",
            "received a message with a malformed header block; passed on without it",
            {
              subject: decoder.decode(arg.subject),
              reason: block.reason,
            },
          );
          bytes = bytes.subarray(arg.hdr);
          arg = { ...arg, hdr: -1, size: bytes.length };
        }
      }
      try {
        original.call(protocol, arg, bytes);
      } catch (err) {
        this.caught++;
        warn.warn(
          "callback-threw",
          "a subscription callback threw; the message is dropped, the reader goes on",
          {
            subject: decoder.decode(arg.subject),
            err,
          },
        );
      }
    };
  }

  /** Marks `subscription` as Troupe's own: it reads header blocks itself (`headerBlockOf`). */
  own(subscription: object): void {
    this.ours.add(subscription);
  }

  private isOurs(sub: unknown): boolean {
    return typeof sub === "object" && sub !== null && this.ours.has(sub);
  }
}
