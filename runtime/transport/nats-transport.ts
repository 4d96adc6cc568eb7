/**
 * {@link Transport} on a nats.js connection.
 *
 * Requests do not use `nc.request()`: that allocates an Error per call for async stack traces and
 * a subscription entry per call. Instead one wildcard subscription on a private inbox receives every
 * reply, and a sequence number in the reply subject finds the waiting caller (publish + multiplexed
 * reply subscription: the fastest raw pattern measured on this hardware, see docs/benchmarks.md).
 * The waiting requests and their deadlines are pending-requests.ts; message and header shapes
 * nats-message.ts; key-value buckets kv-bucket.ts.
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { ConnectionClosedError, PayloadTooLargeError } from "../errors.js";
import { type Logger, type RepeatLimiter, repeatsOf } from "../log.js";
import { type NatsOptions, newInbox, openNatsConnection } from "./connection.js";
import { headerBlockOf, malformedHeadersError, type ReceivedHeaders } from "./headers.js";
import {
  DEFAULT_JETSTREAM_API_TIMEOUT_MS,
  DEFAULT_JETSTREAM_SETUP_DEADLINE_MS,
  type JetStreamSetupOptions,
  withJetStreamSetupRetry,
} from "./jetstream-setup.js";
import { createKeyValue, openKeyValue } from "./kv-bucket.js";
import { Inbound, outcomeOf, toNatsHeaders } from "./nats-message.js";
import { OneWayRing } from "./one-way-ring.js";
import { PendingRequests } from "./pending-requests.js";
import { logPermissionViolations } from "./permission-log.js";
import { ReaderGuard } from "./reader-guard.js";
import { type ReaderCheckOptions, ReaderWatchdog } from "./reader-watchdog.js";
import type {
  BucketOptions,
  InboundMessage,
  KeyValueBucket,
  OneWayAnswerHandler,
  RequestOutcome,
  SubscribeOptions,
  SubscriptionHandle,
  Transport,
} from "./transport.js";

export class NatsTransport implements Transport {
  private readonly inbox: string;
  private readonly inboxLength: number;
  private readonly inboxDot: string;
  private readonly pending = new PendingRequests();
  private seq = 0;
  /** One-way messages: their status subjects are `<inbox>.t<seq>`. */
  private readonly oneWay = new OneWayRing();
  private oneWaySeq = 0;
  private oneWayHandler: OneWayAnswerHandler | undefined;
  private kvm: Kvm | undefined;
  private closing = false;
  /** Warnings about what arrives (malformed messages, throwing callbacks): aggregated per kind (RepeatLimiter). */
  private readonly warnings: RepeatLimiter;
  /** @internal Keeps nats.js's reader alive whatever a message holds (see reader-guard.ts). */
  readonly readerGuard: ReaderGuard;
  /** @internal Reconnects when the reader died anyway (see reader-watchdog.ts). */
  readonly readerWatchdog: ReaderWatchdog;

  static async connect(options: NatsOptions, logger: Logger): Promise<NatsTransport> {
    return new NatsTransport(await openNatsConnection(options, logger), logger, {
      ...(options.jetStreamApiTimeoutMs !== undefined ? { apiTimeoutMs: options.jetStreamApiTimeoutMs } : {}),
      ...(options.jetStreamSetupDeadlineMs !== undefined
        ? { setupDeadlineMs: options.jetStreamSetupDeadlineMs }
        : {}),
      ...(options.readerCheck ? { readerCheck: options.readerCheck } : {}),
    });
  }

  /** How JetStream setup requests (streams, consumers, buckets) time out and retry. */
  readonly jetStreamSetup: Required<JetStreamSetupOptions>;

  constructor(
    readonly nc: NatsConnection,
    private readonly logger: Logger,
    setup: JetStreamSetupOptions & { readerCheck?: ReaderCheckOptions } = {},
  ) {
    this.jetStreamSetup = {
      apiTimeoutMs: setup.apiTimeoutMs ?? DEFAULT_JETSTREAM_API_TIMEOUT_MS,
      setupDeadlineMs: setup.setupDeadlineMs ?? DEFAULT_JETSTREAM_SETUP_DEADLINE_MS,
    };
    // Under the connection's own prefix, which NATS permissions can confine to this user.
    this.inbox = newInbox(nc);
    this.inboxLength = this.inbox.length + 1;
    this.inboxDot = `${this.inbox}.`;
    this.warnings = repeatsOf(logger);
    this.readerGuard = new ReaderGuard(nc, logger, this.warnings);
    this.readerWatchdog = new ReaderWatchdog(nc, logger, setup.readerCheck);
    this.readerWatchdog.start();
    logPermissionViolations(nc, logger);
    this.subscribeGuarded(`${this.inbox}.*`, {}, (msg) => this.onReply(msg));
    void nc.closed().then((err) => {
      this.readerWatchdog.stop();
      if (err) this.logger.error("NATS connection closed with an error", { err });
      this.pending.failAll();
    });
  }

  /** @internal The connection's logger, for the other modules of this folder. */
  get log(): Logger {
    return this.logger;
  }

  get isClosed(): boolean {
    return this.closing || this.nc.isClosed();
  }

  private up = true;
  private connectionListeners: ((connected: boolean) => void)[] | undefined;

  /** Whether the connection is up now (false from a disconnect until the reconnect). */
  get connected(): boolean {
    return this.up && !this.isClosed;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    if (!this.connectionListeners) {
      this.connectionListeners = [];
      void this.followConnection();
    }
    this.connectionListeners.push(listener);
  }

  private async followConnection(): Promise<void> {
    const tell = (up: boolean) => {
      if (up === this.up) return;
      this.up = up;
      for (const l of this.connectionListeners ?? []) {
        try {
          l(up);
        } catch (err) {
          this.logger.error("a connection-change listener threw", { err });
        }
      }
    };
    void this.nc.closed().then(() => tell(false));
    try {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnecting") tell(false);
        else if (s.type === "reconnect") tell(true);
      }
    } catch (err) {
      this.logger.warn("the connection status stream ended; connection changes are no longer followed", {
        err,
      });
    }
  }

  publish(subject: string, data: Uint8Array, headers?: Record<string, string>): void {
    this.assertOpen();
    this.assertFits("a message", data);
    if (headers) this.nc.publish(subject, data, { headers: toNatsHeaders(headers) });
    else this.nc.publish(subject, data);
  }

  publishOneWay(subject: string, data: Uint8Array, headers?: Record<string, string>, attempt = 0): number {
    this.assertOpen();
    this.assertFits("a message", data);
    const seq = ++this.oneWaySeq;
    this.oneWay.put(seq, subject, data, headers, attempt);
    const reply = `${this.inbox}.t${seq}`;
    this.nc.publish(subject, data, headers ? { reply, headers: toNatsHeaders(headers) } : { reply });
    return seq;
  }

  onOneWayAnswer(handler: OneWayAnswerHandler): void {
    this.oneWayHandler = handler;
  }

  reply(replyTo: string, data: Uint8Array, headers?: Record<string, string>): void {
    if (replyTo.startsWith(this.inboxDot)) {
      // A reply to a request of this very connection (local delivery): no need for the broker.
      this.answered(replyTo.slice(this.inboxLength), data, undefined);
      return;
    }
    if (this.nc.isClosed()) {
      this.logger.warn("reply dropped: connection closed", { replyTo });
      return;
    }
    this.assertFits("a reply", data);
    if (headers) this.nc.publish(replyTo, data, { headers: toNatsHeaders(headers) });
    else this.nc.publish(replyTo, data);
  }

  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: Record<string, string>,
    keepaliveTimeoutMs = Number.POSITIVE_INFINITY,
  ): Promise<RequestOutcome> {
    // Failures are rejections, never synchronous throws: callers chain on the returned promise.
    if (this.isClosed) return Promise.reject(new ConnectionClosedError("the mesh connection is closed"));
    try {
      this.assertFits("a request", data);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = ++this.seq;
    const reply = `${this.inbox}.${id}`;
    return new Promise<RequestOutcome>((resolve, reject) => {
      this.pending.add(id, subject, timeoutMs, keepaliveTimeoutMs, resolve, reject);
      try {
        this.nc.publish(subject, data, headers ? { reply, headers: toNatsHeaders(headers) } : { reply });
      } catch (err) {
        this.pending.forget(id);
        reject(this.isClosed ? new ConnectionClosedError("connection closed", { cause: err }) : err);
      }
    });
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.inboxLength);
    const block = headerBlockOf(msg);
    if (block.ok) this.answered(token, msg.data, block.headers);
    else this.refuseOnInbox(token, block.reason);
  }

  /**
   * A message with a malformed header block on this connection's inbox: the request waiting for it
   * fails at once with MalformedMessageError (nothing in it can be trusted as its reply); one that
   * nothing waits for is dropped with a warning.
   */
  private refuseOnInbox(token: string, reason: string): void {
    const id = Number(token);
    const waiting = Number.isSafeInteger(id) ? this.pending.get(id) : undefined;
    if (waiting) {
      this.pending.forget(id);
      waiting.reject(malformedHeadersError(reason));
      return;
    }
    this.warnings.warn(
      "inbox-malformed-headers",
      "dropped a message with a malformed header block on the reply inbox",
      {
        inbox: this.inbox,
        token,
        reason,
      },
    );
  }

  /** A message on this connection's inbox: `<seq>` answers a request, `t<seq>` a one-way message. */
  private answered(token: string, data: Uint8Array, h: ReceivedHeaders | undefined): void {
    if (token.charCodeAt(0) !== 116 /* t */) {
      this.pending.settle(Number(token), data, h);
      return;
    }
    const seq = Number(token.slice(1));
    const sent = this.oneWay.take(seq);
    const handler = this.oneWayHandler;
    if (!handler) return;
    try {
      handler(sent, outcomeOf(data, h), seq);
    } catch (err) {
      this.logger.error("handling the answer to a one-way message failed", { err });
    }
  }

  requestLocally(timeoutMs: number, deliver: (replyTo: string) => void): Promise<RequestOutcome> {
    if (this.isClosed) return Promise.reject(new ConnectionClosedError("the mesh connection is closed"));
    const id = ++this.seq;
    return new Promise<RequestOutcome>((resolve, reject) => {
      // In-process: the callee cannot die without this process, so no silence limit.
      this.pending.add(id, "(local)", timeoutMs, Number.POSITIVE_INFINITY, resolve, reject);
      try {
        deliver(`${this.inbox}.${id}`);
      } catch (err) {
        this.pending.forget(id);
        reject(err);
      }
    });
  }

  settleLocally(replyTo: string, ok: boolean, value: unknown): void {
    const id = replyTo.startsWith(this.inboxDot) ? Number(replyTo.slice(this.inboxLength)) : Number.NaN;
    const waiting = this.pending.get(id);
    if (!waiting) return; // the caller gave up (deadline) first
    this.pending.forget(id);
    waiting.resolve({ kind: "settled", ok, value });
  }

  subscribe(
    subject: string,
    options: SubscribeOptions,
    handler: (msg: InboundMessage) => void,
  ): SubscriptionHandle {
    this.assertOpen();
    const sub = this.subscribeGuarded(subject, options, (msg) => {
      const block = headerBlockOf(msg);
      if (!block.ok) handler(new Inbound(msg, undefined, block.reason));
      // Without a header block nats.js's message is safe to hand out as it is (no allocation).
      else handler(block.headers ? new Inbound(msg, block.headers) : msg);
    });
    return {
      drain: () => (sub.isClosed() ? Promise.resolve() : sub.drain()),
      unsubscribe: () => sub.unsubscribe(),
    };
  }

  /**
   * @internal A subscription whose callback reads header blocks itself (with `headerBlockOf`, never
   * `msg.headers`): the reader guard passes it malformed blocks as they are. A callback that throws
   * is logged (rate-limited), never allowed into nats.js's read loop.
   */
  subscribeGuarded(subject: string, options: SubscribeOptions, callback: (msg: Msg) => void): Subscription {
    const sub = this.nc.subscribe(subject, {
      ...(options.queue ? { queue: options.queue } : {}),
      callback: (err, msg) => {
        if (err) {
          this.logger.error("subscription failed", { subject, err });
          return;
        }
        try {
          callback(msg);
        } catch (thrown) {
          this.warnings.warn("handler-threw", "a message handler threw; the message is dropped", {
            subject,
            err: thrown,
          });
        }
      },
    });
    this.readerGuard.own(sub);
    return sub;
  }

  /** @internal A warning about something received, rate-limited per `kind` (runtime/log.ts, RepeatLimiter). */
  warnReceived(kind: string, msg: string, fields: Record<string, unknown>): void {
    this.warnings.warn(kind, msg, fields);
  }

  async keyValue(bucket: string, options: BucketOptions = {}): Promise<KeyValueBucket> {
    return createKeyValue(this.keyValueManager(), this, bucket, options);
  }

  async existingKeyValue(bucket: string): Promise<KeyValueBucket | null> {
    return openKeyValue(this.keyValueManager(), this, bucket);
  }

  /**
   * @internal Runs one idempotent JetStream setup step (create a stream, consumer or bucket),
   * retrying while JetStream is not ready, up to this connection's setup deadline.
   */
  setUpJetStream<T>(what: string, op: () => Promise<T>): Promise<T> {
    return withJetStreamSetupRetry(what, op, this.logger, this.jetStreamSetup.setupDeadlineMs);
  }

  private keyValueManager(): Kvm {
    this.kvm ??= new Kvm(jetstream(this.nc, { timeout: this.jetStreamSetup.apiTimeoutMs }));
    return this.kvm;
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.readerWatchdog.stop();
    try {
      if (!this.nc.isClosed()) await this.nc.drain();
    } catch (err) {
      // nats.js refuses to drain while disconnected (e.g. closing an outbox client offline).
      if (this.up) throw err;
      this.logger.info("closing while disconnected: nothing to drain", { err });
      await this.nc.close();
    } finally {
      this.pending.failAll();
    }
  }

  /**
   * Refuses, as a typed error, a message the server would reject for exceeding its max_payload.
   * @internal Also used by the key-value buckets of this transport.
   */
  assertFits(what: string, data: Uint8Array): void {
    const limit = this.nc.info?.max_payload;
    if (limit !== undefined && data.length > limit) {
      throw new PayloadTooLargeError(
        `${what} of ${data.length} bytes exceeds the server's max_payload of ${limit}`,
        {
          details: { size: data.length, limit },
        },
      );
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new ConnectionClosedError("the mesh connection is closed");
  }
}
