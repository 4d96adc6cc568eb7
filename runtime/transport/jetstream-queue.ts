/**
 * JetStream streams used as durable queues (jobs, results, dead letters), behind a small interface
 * so that `runtime/jobs/` never sees nats.js. One {@link JetStreamQueues} per connection.
 *
 * @example
 * ```ts
 * const q = jetStreamQueues(mesh.transport);
 * await q.ensureStream({ name: "troupe_jobs_Cart", subjects: ["troupe.jobs.Cart.>"], retention: "workqueue" });
 * const { seq, duplicate } = await q.publish("troupe.jobs.Cart.j1", bytes, { msgId: "j1" });
 * ```
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { JS_CONSUMER_NOT_FOUND, JS_STREAM_NOT_FOUND } from "./jetstream-codes.js";
import { JetStreamPuller, type PullListener } from "./jetstream-pull.js";
import { natsTransportOf } from "./late-transport.js";
import type { NatsTransport } from "./nats-transport.js";
import { DEFAULT_PUBACK_TIMEOUT_MS, type PublishResult, pubAckOf } from "./pub-ack.js";
import { streamSubjectCounts } from "./stream-state.js";
import type { Transport } from "./transport.js";

export type { JetStreamPuller, PullError, PullListener, QueueMessage } from "./jetstream-pull.js";
export { JetStreamPublishError, type PublishResult, StreamLimitError } from "./pub-ack.js";

/** JetStream API error codes only this module maps (nats-server's `errors.json`; shared ones in jetstream-codes.ts). */
const JS_STREAM_NAME_IN_USE = 10058;

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** `workqueue`: a message is removed once acked; `limits`: kept until the limits drop it. */
  retention: "workqueue" | "limits";
  replicas?: number;
  /** Messages older than this are dropped (0: never). */
  maxAgeMs?: number;
  /** Refuse new messages beyond this count (discard "new": the producer gets an error; -1: no limit). */
  maxMessages?: number;
  /** Refuse new messages beyond this many bytes (-1: no limit). */
  maxBytes?: number;
  /** Keep only the last N messages of each subject (-1: no limit). */
  maxMessagesPerSubject?: number;
  /** `Nats-Msg-Id` deduplication window (server default 2 minutes). */
  duplicateWindowMs?: number;
  /** Answer direct gets (`last_by_subj`) from any replica. */
  allowDirect?: boolean;
  description?: string;
}

export interface PullConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** Redelivery after this long without an ack or an in-progress ack. */
  ackWaitMs: number;
  /** The server stops delivering when this many messages await their ack (over all pullers). */
  maxAckPending: number;
}

export interface PublishOptions {
  /** `Nats-Msg-Id`: a second publish with the same id within the window is dropped (PubAck `duplicate`). */
  msgId?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A stored message read back by sequence or by subject. */
export interface StoredMessage {
  readonly subject: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers: Record<string, string>;
  readonly storedAtMs: number;
  /** Set (and `headers` empty) when the stored header block is malformed: why. */
  readonly malformedHeaders?: string;
}

export interface StreamCounts {
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

export interface ConsumerCounts {
  /** Messages not yet delivered. */
  readonly pending: number;
  /** Delivered, not yet acked. */
  readonly ackPending: number;
  /** Nak'ed or timed out, waiting for redelivery. */
  readonly redelivered: number;
}

const cache = new WeakMap<NatsTransport, JetStreamQueues>();

/** The queues of the connection behind `transport` (which must be a {@link NatsTransport}). */
export interface Backlog extends ConsumerCounts {
  /**
   * The stream's last sequence as the consumer's own snapshot sees it (last delivered + pending):
   * grows by one per stored message, read in the same response as the counts, so arrivals minus
   * backlog growth never counts a job that arrived between two reads as completed.
   */
  readonly lastSeq: number;
  readonly messages: number;
  /** Sequence of the oldest stored message; undefined when empty. */
  readonly firstSeq: number | undefined;
  /** When the oldest stored message was stored (server clock); undefined when empty. */
  readonly oldestStoredAtMs: number | undefined;
  /** When the newest stored message was stored (server clock, comparable only with the above). */
  readonly newestStoredAtMs: number | undefined;
}

export function jetStreamQueues(transport: Transport): JetStreamQueues {
  const nats = natsTransportOf(transport, "durable queues");
  let q = cache.get(nats);
  if (!q) {
    q = new JetStreamQueues(nats);
    cache.set(nats, q);
  }
  return q;
}

export class JetStreamQueues {
  private jsmPromise: Promise<JetStreamManager> | undefined;

  constructor(private readonly transport: NatsTransport) {}

  private jsm(): Promise<JetStreamManager> {
    const { apiTimeoutMs } = this.transport.jetStreamSetup;
    // checkAPI: false, the first real request tells whether JetStream answers (and is retried).
    this.jsmPromise ??= jetstreamManager(this.transport.nc, { timeout: apiTimeoutMs, checkAPI: false }).catch(
      (err: unknown) => {
        this.jsmPromise = undefined;
        throw err;
      },
    );
    return this.jsmPromise;
  }

  /**
   * Creates the stream, or leaves an existing one as it is (its config wins: change it with `nats
   * stream edit`). Retries while JetStream is not ready (see jetstream-setup.ts).
   */
  ensureStream(spec: StreamSpec): Promise<void> {
    return this.transport.setUpJetStream(`stream ${spec.name}`, () => this.createStreamUnlessExists(spec));
  }

  private async createStreamUnlessExists(spec: StreamSpec): Promise<void> {
    const jsm = await this.jsm();
    try {
      await jsm.streams.info(spec.name);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND)) throw err;
    }
    try {
      await jsm.streams.add({
        name: spec.name,
        subjects: spec.subjects,
        retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: spec.replicas ?? 1,
        discard: spec.retention === "workqueue" ? DiscardPolicy.New : DiscardPolicy.Old,
        max_age: nanos(spec.maxAgeMs ?? 0),
        max_msgs: spec.maxMessages ?? -1,
        max_bytes: spec.maxBytes ?? -1,
        max_msgs_per_subject: spec.maxMessagesPerSubject ?? -1,
        ...(spec.duplicateWindowMs ? { duplicate_window: nanos(spec.duplicateWindowMs) } : {}),
        ...(spec.allowDirect ? { allow_direct: true } : {}),
        ...(spec.description ? { description: spec.description } : {}),
      });
    } catch (err) {
      // Another process created it first.
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NAME_IN_USE) return;
      throw err;
    }
  }

  /** Creates (or updates to `spec`) a durable pull consumer. Retries while JetStream is not ready. */
  ensurePullConsumer(spec: PullConsumerSpec): Promise<void> {
    return this.transport.setUpJetStream(`consumer ${spec.stream}/${spec.durable}`, () =>
      this.createPullConsumer(spec),
    );
  }

  private async createPullConsumer(spec: PullConsumerSpec): Promise<void> {
    const jsm = await this.jsm();
    await jsm.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      ack_wait: nanos(spec.ackWaitMs),
      max_ack_pending: spec.maxAckPending,
      // Retries and dead-lettering are decided by the runner from the delivery count.
      max_deliver: -1,
    });
  }

  /**
   * Stores a message and resolves with the stream's PubAck. The request goes through the
   * transport's multiplexed inbox, not `js.publish()` (which is `nc.request()` underneath, with an
   * Error built per call: see docs/benchmarks.md).
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const headers = options.msgId ? { ...options.headers, "Nats-Msg-Id": options.msgId } : options.headers;
    const outcome = await this.transport.request(
      subject,
      data,
      options.timeoutMs ?? DEFAULT_PUBACK_TIMEOUT_MS,
      headers,
    );
    return pubAckOf(subject, outcome);
  }

  /**
   * A puller on a durable pull consumer: at most one pull outstanding, sized by the caller (see
   * jetstream-pull.ts). `close()` it when done.
   */
  puller(stream: string, durable: string, listener: PullListener): JetStreamPuller {
    return new JetStreamPuller(this.transport, stream, durable, listener);
  }

  /** The last message stored on `subject`, or null. Served by any replica when the stream allows direct gets. */
  async lastBySubject(stream: string, subject: string, direct = true): Promise<StoredMessage | null> {
    const jsm = await this.jsm();
    const m = direct
      ? await jsm.direct.getMessage(stream, { last_by_subj: subject })
      : await jsm.streams.getMessage(stream, { last_by_subj: subject });
    return m ? stored(m) : null;
  }

  async bySeq(stream: string, seq: number): Promise<StoredMessage | null> {
    const jsm = await this.jsm();
    const m = await jsm.streams.getMessage(stream, { seq });
    return m ? stored(m) : null;
  }

  /**
   * Messages of `stream` (optionally on `subject`, wildcards allowed) from `fromSeq` on, oldest
   * first, without a durable consumer (direct gets of the next sequence).
   */
  async *list(
    stream: string,
    options: { subject?: string; fromSeq?: number } = {},
  ): AsyncGenerator<StoredMessage> {
    const jsm = await this.jsm();
    let seq = options.fromSeq ?? 1;
    for (;;) {
      let m: StoredMsg | null;
      try {
        m = await jsm.streams.getMessage(stream, {
          next_by_subj: options.subject ?? ">",
          seq,
        } as unknown as { seq: number });
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return;
        throw err;
      }
      if (!m) return;
      yield stored(m);
      seq = m.seq + 1;
    }
  }

  async deleteMessage(stream: string, seq: number): Promise<boolean> {
    const jsm = await this.jsm();
    try {
      return await jsm.streams.deleteMessage(stream, seq, false);
    } catch (err) {
      if (err instanceof JetStreamApiError && /no message found/i.test(err.message)) return false;
      throw err;
    }
  }

  /** Removes every message (on `subject` if given); returns how many. */
  async purge(stream: string, subject?: string): Promise<number> {
    const jsm = await this.jsm();
    const r = await jsm.streams.purge(stream, subject ? { filter: subject } : undefined);
    return r.purged;
  }

  /** The subjects of `stream` matching `filter` that hold messages, with how many each; none when there is no such stream. */
  async subjectCounts(stream: string, filter: string): Promise<Map<string, number>> {
    try {
      return await streamSubjectCounts(this.transport, stream, filter, `stream ${stream} (subjects)`);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return new Map();
      throw err;
    }
  }

  /** Null when the stream does not exist. */
  async streamCounts(stream: string): Promise<StreamCounts | null> {
    const jsm = await this.jsm();
    try {
      const s = (await jsm.streams.info(stream)).state;
      return { messages: s.messages, bytes: s.bytes, firstSeq: s.first_seq, lastSeq: s.last_seq };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return null;
      throw err;
    }
  }

  async consumerCounts(stream: string, durable: string): Promise<ConsumerCounts | null> {
    const jsm = await this.jsm();
    try {
      const c = await jsm.consumers.info(stream, durable);
      return { pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered };
    } catch (err) {
      if (
        err instanceof JetStreamApiError &&
        (err.code === JS_STREAM_NOT_FOUND || err.code === JS_CONSUMER_NOT_FOUND)
      ) {
        return null;
      }
      throw err;
    }
  }

  /**
   * What scaling reads of a durable consumer, in two round trips: from the consumer's info its counts
   * and arrivals (one snapshot), from the stream's the oldest and newest stored times. Null without
   * the stream.
   */
  async backlogOf(stream: string, durable: string): Promise<Backlog | null> {
    const jsm = await this.jsm();
    try {
      const s = (await jsm.streams.info(stream)).state;
      const stored = s.messages > 0;
      const times = {
        firstSeq: stored ? s.first_seq : undefined,
        oldestStoredAtMs: stored && s.first_ts ? Date.parse(s.first_ts) : undefined,
        newestStoredAtMs: stored && s.last_ts ? Date.parse(s.last_ts) : undefined,
      };
      const c = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === JS_CONSUMER_NOT_FOUND) return undefined;
        throw err;
      });
      // No consumer yet (no runner ever started: scale from zero): every stored message is pending.
      if (!c) {
        return {
          pending: s.messages,
          ackPending: 0,
          redelivered: 0,
          lastSeq: s.last_seq,
          messages: s.messages,
          ...times,
        };
      }
      return {
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered,
        lastSeq: c.delivered.stream_seq + c.num_pending,
        messages: s.messages,
        ...times,
      };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_STREAM_NOT_FOUND) return null;
      throw err;
    }
  }

  /** Names of the streams whose name starts with `prefix`. */
  async streamNames(prefix: string): Promise<string[]> {
    const jsm = await this.jsm();
    const out: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) out.push(name);
    return out.sort();
  }
}

function stored(m: StoredMsg): StoredMessage {
  const headers: Record<string, string> = {};
  const base = { subject: m.subject, seq: m.seq, data: m.data, headers, storedAtMs: m.time.getTime() };
  try {
    // nats.js decodes a stored message's header block on this first read, and throws on a bad one.
    if (m.header) for (const k of m.header.keys()) headers[k] = m.header.get(k);
  } catch (err) {
    return { ...base, malformedHeaders: err instanceof Error ? err.message : String(err) };
  }
  return base;
}
