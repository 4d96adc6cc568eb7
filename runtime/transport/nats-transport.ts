/**
 * {@link Transport} on a nats.js connection.
 *
 * Requests do not use `nc.request()`: that allocates an Error per call for async stack traces and
 * a subscription entry per call. Instead one wildcard subscription on a private inbox receives every
 * reply, and a sequence number in the reply subject finds the waiting caller (publish + multiplexed
 * reply subscription: the fastest raw pattern measured on this hardware, see docs/benchmarks.md).
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  type Msg,
  type MsgHdrs,
  MsgHdrsImpl,
  type NatsConnection,
  type Subscription,
} from "@nats-io/nats-core";
import {
  ConfigurationError,
  ConnectionClosedError,
  DeadlineExceededError,
  HostUnresponsiveError,
  PayloadTooLargeError,
} from "../errors.js";
import { type Logger, type RepeatLimiter, repeatsOf } from "../log.js";
import { keepaliveEveryMs } from "../messaging/index.js";
import { type NatsOptions, newInbox, openNatsConnection } from "./connection.js";
import { headerBlockOf, malformedHeadersError, type ReceivedHeaders } from "./headers.js";
import {
  DEFAULT_JETSTREAM_API_TIMEOUT_MS,
  DEFAULT_JETSTREAM_SETUP_DEADLINE_MS,
  type JetStreamSetupOptions,
  withJetStreamSetupRetry,
} from "./jetstream-setup.js";
import { NatsKeyValueBucket } from "./kv-bucket.js";
import { OneWayRing } from "./one-way-ring.js";
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

interface PendingRequest {
  resolve(outcome: RequestOutcome): void;
  reject(err: Error): void;
  /** `performance.now()` after which the caller gets DeadlineExceededError. */
  deadline: number;
  subject: string;
  timeoutMs: number;
  /** `performance.now()` when the request was sent or its responder last sent a keepalive. */
  heardAt: number;
  /** The caller gets HostUnresponsiveError after this long without a word (Infinity: never). */
  silenceMs: number;
}

/** A keepalive may come this many announced intervals late before its host counts as silent. */
const KEEPALIVE_TOLERANCE = 3;

export class NatsTransport implements Transport {
  private readonly inbox: string;
  private readonly inboxLength: number;
  private readonly inboxDot: string;
  private readonly pending = new Map<number, PendingRequest>();
  private seq = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
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
      this.failAllPending();
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
      this.awaitReply(id, subject, timeoutMs, keepaliveTimeoutMs, resolve, reject);
      try {
        this.nc.publish(subject, data, headers ? { reply, headers: toNatsHeaders(headers) } : { reply });
      } catch (err) {
        this.forget(id);
        reject(this.isClosed ? new ConnectionClosedError("connection closed", { cause: err }) : err);
      }
    });
  }

  /**
   * Registers request `id` as waiting for its reply until `timeoutMs` from now, or until its
   * responder has said nothing (no reply, no keepalive) for `silenceMs`.
   */
  private awaitReply(
    id: number,
    subject: string,
    timeoutMs: number,
    silenceMs: number,
    resolve: (outcome: RequestOutcome) => void,
    reject: (err: Error) => void,
  ): void {
    const now = performance.now();
    const p = { resolve, reject, deadline: now + timeoutMs, subject, timeoutMs, heardAt: now, silenceMs };
    this.pending.set(id, p);
    this.armSweepBy(checkAtOf(p));
  }

  /** Arms the sweep for `at` unless it is already armed for earlier. */
  private armSweepBy(at: number): void {
    if (at < this.sweepAt) this.armSweep(at);
  }

  /**
   * Deadlines: instead of a timer per request, one timer armed for the earliest moment a pending
   * request could fail (its deadline, or the end of its responder's allowed silence). When it fires
   * it fails every expired request and re-arms for the next earliest. Requests with the same
   * timeout expire in the order they were made, so it rarely needs re-arming early.
   */
  private armSweep(at: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, at - performance.now()));
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    let silent: number[] | undefined;
    for (const [id, p] of this.pending) {
      if (p.deadline <= now + 1) {
        this.pending.delete(id);
        p.reject(
          new DeadlineExceededError(`no reply on ${p.subject} within ${p.timeoutMs} ms`, {
            details: { subject: p.subject, timeoutMs: p.timeoutMs },
          }),
        );
        continue;
      }
      if (p.heardAt + p.silenceMs <= now + 1) {
        silent ??= [];
        silent.push(id);
      } else next = Math.min(next, checkAtOf(p));
    }
    if (silent) {
      // This process may itself have been busy (a long callback): keepalives can be waiting in
      // the socket, and the event loop runs overdue timers before it polls again. Judge in the
      // next check phase, which comes after that poll.
      const ids = silent;
      setImmediate(() => this.failSilent(ids));
    }
    if (next !== Number.POSITIVE_INFINITY) this.armSweep(next);
  }

  /** Fails the requests of `ids` whose responder is still silent; re-arms for those that spoke. */
  private failSilent(ids: number[]): void {
    const now = performance.now();
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      if (p.heardAt + p.silenceMs > now + 1) {
        this.armSweepBy(checkAtOf(p));
        continue;
      }
      this.forget(id);
      const silentMs = Math.round(now - p.heardAt);
      p.reject(
        new HostUnresponsiveError(
          `no reply and no keepalive on ${p.subject} for ${silentMs} ms: its host may have died, been ` +
            "paused or cut off; the call may or may not have run",
          { details: { subject: p.subject, silentMs, timeoutMs: p.timeoutMs } },
        ),
      );
    }
  }

  /** Drops a pending request; with nothing pending, the deadline timer must not keep the process alive. */
  private forget(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && this.sweepTimer) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
      this.sweepAt = Number.POSITIVE_INFINITY;
    }
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
      this.forget(id);
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
      this.settleReply(Number(token), data, h);
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

  private settleReply(id: number, data: Uint8Array, h: ReceivedHeaders | undefined): void {
    const waiting = this.pending.get(id);
    if (!waiting) return; // the caller gave up (deadline) before the reply came
    const everyMs = keepaliveEveryMs(data);
    if (everyMs > 0) {
      // Not the reply: the responder is still on it. Trust its word for as long as it says.
      waiting.heardAt = performance.now();
      if (waiting.silenceMs < KEEPALIVE_TOLERANCE * everyMs)
        waiting.silenceMs = KEEPALIVE_TOLERANCE * everyMs;
      return;
    }
    this.forget(id);
    waiting.resolve(outcomeOf(data, h));
  }

  requestLocally(timeoutMs: number, deliver: (replyTo: string) => void): Promise<RequestOutcome> {
    if (this.isClosed) return Promise.reject(new ConnectionClosedError("the mesh connection is closed"));
    const id = ++this.seq;
    return new Promise<RequestOutcome>((resolve, reject) => {
      // In-process: the callee cannot die without this process, so no silence limit.
      this.awaitReply(id, "(local)", timeoutMs, Number.POSITIVE_INFINITY, resolve, reject);
      try {
        deliver(`${this.inbox}.${id}`);
      } catch (err) {
        this.forget(id);
        reject(err);
      }
    });
  }

  settleLocally(replyTo: string, ok: boolean, value: unknown): void {
    const id = replyTo.startsWith(this.inboxDot) ? Number(replyTo.slice(this.inboxLength)) : Number.NaN;
    const waiting = this.pending.get(id);
    if (!waiting) return; // the caller gave up (deadline) first
    this.forget(id);
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
    const kvm = this.keyValueManager();
    const { kv, actualTtlMs } = await this.setUpJetStream(`bucket ${bucket}`, async () => {
      const kv = await kvm.create(bucket, {
        history: 1,
        replicas: options.replicas ?? 1,
        ...(options.ttlMs ? { ttl: options.ttlMs } : {}),
        ...(options.description ? { description: options.description } : {}),
      });
      // The bucket may exist already, created by another process with another TTL.
      return { kv, actualTtlMs: options.ttlMs ? (await kv.status()).ttl : undefined };
    });
    if (options.ttlMs && actualTtlMs !== options.ttlMs) {
      throw new ConfigurationError(
        `bucket ${bucket} exists with a TTL of ${actualTtlMs} ms, this process wants ${options.ttlMs} ms: every process of a mesh must use the same value`,
        { details: { bucket, actualTtlMs, wantedTtlMs: options.ttlMs } },
      );
    }
    return new NatsKeyValueBucket(kv, this, bucket);
  }

  async existingKeyValue(bucket: string): Promise<KeyValueBucket | null> {
    const kvm = this.keyValueManager();
    try {
      const kv = await kvm.open(bucket);
      await kv.status();
      return new NatsKeyValueBucket(kv, this, bucket);
    } catch (err) {
      if (err instanceof Error && /stream not found/i.test(err.message)) return null;
      throw err;
    }
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
      this.failAllPending();
    }
  }

  private failAllPending(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new ConnectionClosedError(`connection closed while waiting for a reply on ${p.subject}`));
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

/** The earliest moment a pending request can fail: its deadline, or the end of its allowed silence. */
function checkAtOf(p: PendingRequest): number {
  return Math.min(p.heardAt + p.silenceMs, p.deadline);
}

/** A message on the inbox: the broker's "no responders" status (503, no body), or a reply. */
function outcomeOf(
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
class Inbound implements InboundMessage {
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
function toNatsHeaders(h: Record<string, string>): MsgHdrs {
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
