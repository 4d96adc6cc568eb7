/**
 * The JetStream pull protocol, spoken directly on the connection: one subscription per puller,
 * pull requests published to `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`, and messages settled
 * by publishing `+ACK` / `-NAK` / `+WPI` / `+TERM` to their reply subject.
 *
 * nats.js's `consumer.fetch()` builds a subscription, a close listener and an iterator per pull,
 * and `consume()` keeps pulling whatever the application holds; neither lets a job runner ask for
 * exactly the slots it has free at a low cost per message. Here at most one pull is outstanding
 * and the caller decides its size; the puller reports when that pull has ended (all asked messages
 * delivered, the server's 408 at expiry, an error status, or, as an error, no word from the server
 * within the expiry plus a grace period: a missing consumer, or a request lost to a restart).
 *
 * @example
 * ```ts
 * const puller = q.puller("troupe_jobs_Cart", "runner", {
 *   message: (m) => run(m).then(() => m.ack()),
 *   ended: (err) => { if (!err) puller.pull(freeSlots(), 5000); },
 * });
 * puller.pull(16, 5000);
 * ```
 */
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../log.js";
import { newInbox } from "./connection.js";
import { headerBlockOf, type ReceivedHeaders } from "./headers.js";
import type { NatsTransport } from "./nats-transport.js";
import type { MessageHeaders } from "./transport.js";

/** A message handed out by a pull; settle it exactly once with ack, nak or term. */
export interface QueueMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders | undefined;
  /**
   * Set when the stored message's header block is malformed (then `headers` is undefined): why.
   * Such a message must not be run: dead-letter it with this reason and settle it.
   */
  readonly malformedHeaders?: string | undefined;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly streamSeq: number;
  /** Server time the message was stored, ms since the epoch. */
  readonly storedAtMs: number;
  /**
   * Acks (fire-and-forget, like a raw consumer's `ack()`). If the ack is lost the message is
   * redelivered after the consumer's AckWait: at-least-once either way.
   */
  ack(): void;
  /** Redeliver after `delayMs` (0: at once). */
  nak(delayMs: number): void;
  /** In-progress ack: restarts the AckWait timer. */
  working(): void;
  /** Never redeliver. */
  term(): void;
}

export interface PullListener {
  /** A message of the outstanding pull. Must not throw. */
  message(m: QueueMessage): void;
  /**
   * The outstanding pull ended; another may be sent. `error` when the server refused it (consumer
   * or stream missing, too many waiting pulls, ...): back off before pulling again.
   */
  ended(error?: PullError): void;
}

/** The server answered a pull with an error status. */
export class PullError extends Error {
  override name = "PullError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Past a pull's expiry, how long to wait for the server's 408 before assuming the pull is gone. */
const LOST_PULL_GRACE_MS = 2000;

const encoder = new TextEncoder();
const ACK = encoder.encode("+ACK");
const WPI = encoder.encode("+WPI");
const TERM = encoder.encode("+TERM");
const NAK = encoder.encode("-NAK");

interface OutstandingPull {
  readonly subject: string;
  readonly asked: number;
  delivered: number;
  readonly timer: NodeJS.Timeout;
}

export class JetStreamPuller {
  private readonly inbox: string;
  private readonly inboxDot: string;
  private readonly requestSubject: string;
  private readonly sub;
  private readonly nc: NatsConnection;
  private readonly logger: Logger;
  private seq = 0;
  private current: OutstandingPull | undefined;
  private closed = false;

  constructor(
    private readonly transport: NatsTransport,
    stream: string,
    durable: string,
    private readonly listener: PullListener,
    apiPrefix = "$JS.API",
  ) {
    this.nc = transport.nc;
    this.logger = transport.log;
    // Under the connection's own prefix, which NATS permissions can confine to this user.
    this.inbox = newInbox(this.nc);
    this.inboxDot = `${this.inbox}.`;
    this.requestSubject = `${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${durable}`;
    // Guarded: header blocks are read here with headerBlockOf, and nothing thrown reaches nats.js.
    this.sub = transport.subscribeGuarded(`${this.inbox}.*`, {}, (msg) => this.onMessage(msg));
  }

  /** True while a pull is outstanding. */
  get pulling(): boolean {
    return this.current !== undefined;
  }

  /**
   * Asks for up to `batch` messages, waiting up to `expiresMs` for them. One pull at a time: the
   * listener's `ended` says when the next may be sent.
   */
  pull(batch: number, expiresMs: number): void {
    if (this.closed) return;
    if (this.current) throw new Error("a pull is already outstanding");
    const subject = `${this.inbox}.${++this.seq}`;
    const timer = setTimeout(() => {
      // Neither the messages nor the server's 408 came: the consumer does not exist (nats-server
      // 2.9 drops such pulls without a word) or the request was lost (server restart, reconnect,
      // consumer leader change). Its credits are free again; the caller backs off.
      if (this.current?.subject === subject) {
        this.end(
          new PullError(
            0,
            `no answer to a pull within ${expiresMs} ms: consumer missing, or the pull was lost`,
          ),
        );
      }
    }, expiresMs + LOST_PULL_GRACE_MS);
    timer.unref();
    this.current = { subject, asked: batch, delivered: 0, timer };
    const body = encoder.encode(`{"batch":${batch},"expires":${Math.floor(expiresMs) * 1_000_000}}`);
    try {
      this.nc.publish(this.requestSubject, body, { reply: subject });
    } catch (err) {
      this.end(new PullError(0, `sending a pull failed: ${(err as Error).message}`));
    }
  }

  /** Stops listening. Messages still on their way are redelivered after AckWait. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.current) clearTimeout(this.current.timer);
    this.current = undefined;
    this.sub.unsubscribe();
  }

  private onMessage(msg: Msg): void {
    const cur = this.current;
    if (msg.subject.startsWith(this.inboxDot)) {
      // A status for one of our pulls (data messages keep their stream subject).
      if (!cur || msg.subject !== cur.subject) return; // about a pull already ended
      const block = headerBlockOf(msg);
      if (!block.ok) {
        // Not from the server (it writes well-formed statuses): someone else published to our inbox.
        this.transport.warnReceived(
          "pull-status-malformed-headers",
          "ignored a pull status with a malformed header block",
          {
            subject: msg.subject,
            reason: block.reason,
          },
        );
        return;
      }
      const h = block.headers;
      const code = h?.code ?? 0;
      if (code === 100) return; // idle heartbeat
      if (code === 408 || code === 404 || (code === 409 && /leadership change/i.test(h?.description ?? ""))) {
        // Expired, no_wait found nothing, or the consumer's leader moved (a cluster node restarted):
        // a normal end, pull again at once.
        this.end();
        return;
      }
      this.end(new PullError(code, `pull refused by the server: ${code} ${h?.description ?? ""}`.trim()));
      return;
    }
    const m = parseDelivered(this.nc, this.logger, msg);
    if (!m) return;
    // Handed over before the pull ends, so the listener counts it before deciding the next pull.
    this.listener.message(m);
    if (cur && ++cur.delivered >= cur.asked && this.current === cur) this.end();
  }

  private end(error?: PullError): void {
    if (!this.current) return;
    clearTimeout(this.current.timer);
    this.current = undefined;
    if (!this.closed) this.listener.ended(error);
  }
}

/**
 * A delivered message from its reply subject, `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.
 * <cseq>.<nanos>.<pending>` (9 tokens), or the newer form with domain and account hash after
 * `$JS.ACK` (12 tokens). Null for anything else.
 */
function parseDelivered(nc: NatsConnection, logger: Logger, msg: Msg): QueueMessage | null {
  const reply = msg.reply;
  if (!reply?.startsWith("$JS.ACK.")) return null;
  const t = reply.split(".");
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (at < 0) return null;
  const block = headerBlockOf(msg);
  return new DeliveredMessage(
    nc,
    logger,
    msg.subject,
    msg.data,
    block.ok ? block.headers : undefined,
    block.ok ? undefined : block.reason,
    reply,
    Number(t[at]),
    Number(t[at + 1]),
    Math.floor(Number(t[at + 3]) / 1e6),
  );
}

class DeliveredMessage implements QueueMessage {
  constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
    readonly subject: string,
    readonly data: Uint8Array,
    readonly headers: ReceivedHeaders | undefined,
    readonly malformedHeaders: string | undefined,
    private readonly reply: string,
    readonly deliveryCount: number,
    readonly streamSeq: number,
    readonly storedAtMs: number,
  ) {}

  ack(): void {
    this.send(ACK);
  }

  nak(delayMs: number): void {
    this.send(delayMs > 0 ? encoder.encode(`-NAK {"delay":${Math.ceil(delayMs) * 1_000_000}}`) : NAK);
  }

  working(): void {
    this.send(WPI);
  }

  term(): void {
    this.send(TERM);
  }

  private send(body: Uint8Array): void {
    // A settle that cannot be sent is not fatal: the server redelivers the message after AckWait.
    try {
      this.nc.publish(this.reply, body);
    } catch (err) {
      this.logger.warn("settling a message failed; it will be redelivered after AckWait", {
        subject: this.subject,
        seq: this.streamSeq,
        err,
      });
    }
  }
}
