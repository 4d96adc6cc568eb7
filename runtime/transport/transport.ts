/**
 * The narrow interface the runtime needs from a message broker. {@link NatsTransport} implements
 * it on nats.js; nothing outside `runtime/transport/` sees nats.js types.
 */

import type { RetainedMessage } from "./one-way-ring.js";

/** A message handed to a subscriber. Headers are only present when the sender set some. */
export interface InboundMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply?: string | undefined;
  readonly headers?: MessageHeaders | undefined;
  /**
   * Set when the message's header block was malformed (a bad character in a header name, a line
   * break in a value, too large): why, for the refusal. `headers` is then undefined. A receiver
   * refuses such a message (`assertWellFormedHeaders` throws the typed error) instead of serving it.
   */
  readonly malformedHeaders?: string | undefined;
}

/** Read access to message headers (keys are matched exactly: Troupe writes lower-case keys). */
export interface MessageHeaders {
  get(key: string): string;
  has(key: string): boolean;
  keys(): string[];
}

/**
 * Outcome of a request: the reply's bytes, the broker's word that nobody listens on the subject, or
 * (only for {@link Transport.requestLocally}) a value settled in-process, never encoded.
 */
export type RequestOutcome =
  | { readonly kind: "reply"; readonly data: Uint8Array; readonly headers?: MessageHeaders | undefined }
  | { readonly kind: "no-responders" }
  | { readonly kind: "settled"; readonly ok: boolean; readonly value: unknown };

/**
 * What became of a one-way message: `sent` is the message (undefined when no longer retained),
 * `outcome` the broker's "no responders" or the receiver's answer.
 */
export type OneWayAnswerHandler = (
  sent: RetainedMessage | undefined,
  outcome: Exclude<RequestOutcome, { kind: "settled" }>,
  /** What {@link Transport.publishOneWay} returned for the message answered. */
  token: number,
) => void;

export interface SubscriptionHandle {
  /** Stops new deliveries, lets already delivered messages finish their callbacks. */
  drain(): Promise<void>;
  unsubscribe(): void;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member. */
  queue?: string;
}

/**
 * Runs a call on a host of this very connection with arguments handed over in-process (no
 * encoding either way), for a {@link Transport.requestLocally} request: the outcome is settled on
 * `replyTo` with {@link Transport.settleLocally}. A host implements it; the caller's local route
 * calls it. Defined here, below both, so neither imports the other.
 */
export type RunLocally = (
  typeName: string,
  actorId: string,
  subject: string,
  method: string,
  args: unknown[],
  timeoutMs: number,
  replyTo: string,
  headers: Record<string, string> | undefined,
) => void;

export interface Transport {
  /** Fire-and-forget publish. */
  publish(subject: string, data: Uint8Array, headers?: Record<string, string>): void;
  /**
   * A one-way publish that is not silent when it goes nowhere: it carries a status subject of this
   * connection, so when the broker finds nobody listening on `subject`, or the receiver answers
   * (a refusal), the handler set with {@link onOneWayAnswer} is told, with the message itself while
   * the transport still retains it (the last ~1,000, up to 64 KiB each) so it can be sent again.
   * Returns the message's token, handed back with its answer (whether or not it is still retained).
   */
  publishOneWay(
    subject: string,
    data: Uint8Array,
    headers?: Record<string, string>,
    /** Sends before this one (0 for a first send), handed back with an answer. */
    attempt?: number,
  ): number;
  /** Sets the one handler of answers to {@link publishOneWay} messages. */
  onOneWayAnswer(handler: OneWayAnswerHandler): void;
  /** Publishes a reply to `replyTo`. */
  reply(replyTo: string, data: Uint8Array, headers?: Record<string, string>): void;
  /**
   * Sends a request and resolves with the reply or "no-responders"; rejects with
   * `DeadlineExceededError` after `timeoutMs`, or `ConnectionClosedError` if the transport closes.
   * With `keepaliveTimeoutMs`, also rejects with `HostUnresponsiveError` once the responder has sent
   * neither the reply nor a keepalive (see `encodeKeepalive`) for that long; keepalives are not
   * replies, and one announcing a longer interval than a third of it extends it.
   */
  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: Record<string, string>,
    keepaliveTimeoutMs?: number,
  ): Promise<RequestOutcome>;
  /**
   * A request that does not go through the broker: `deliver` receives the reply subject to answer
   * on, and a `reply()` to it resolves the request in-process. Same deadline handling as `request`.
   * Used when the callee is hosted on this very connection.
   */
  requestLocally(timeoutMs: number, deliver: (replyTo: string) => void): Promise<RequestOutcome>;
  /**
   * Settles a {@link requestLocally} request with a value instead of reply bytes (outcome kind
   * "settled"). Ignored once the request's deadline passed.
   */
  settleLocally(replyTo: string, ok: boolean, value: unknown): void;
  subscribe(
    subject: string,
    options: SubscribeOptions,
    handler: (msg: InboundMessage) => void,
  ): SubscriptionHandle;
  /**
   * Opens (creating if needed) a key-value bucket. With `ttlMs`, refuses (ConfigurationError) a
   * bucket that already exists with another TTL.
   */
  keyValue(bucket: string, options?: BucketOptions): Promise<KeyValueBucket>;
  /** Opens an existing bucket without creating it; null if there is none. */
  existingKeyValue(bucket: string): Promise<KeyValueBucket | null>;
  /**
   * Whether the connection is up now (false while reconnecting). Transports without the notion
   * leave it undefined.
   */
  readonly connected?: boolean;
  /** Calls `listener` whenever the connection goes down or comes back. */
  onConnectionChange?(listener: (connected: boolean) => void): void;
  /** A transport that delegates to another (see late-transport.ts) returns it once it exists. */
  underlying?(): Transport | undefined;
  /** Flushes pending publishes to the server. */
  flush(): Promise<void>;
  /** Drains subscriptions and closes the connection. */
  close(): Promise<void>;
  readonly isClosed: boolean;
}

export interface BucketOptions {
  /** Replicas of the bucket's stream (1 on a single server, 3 in a 3-node cluster). */
  replicas?: number;
  /** Entries older than this vanish (bucket-wide TTL). */
  ttlMs?: number;
  description?: string;
}

export interface KvRecord {
  readonly value: Uint8Array;
  readonly revision: number;
  /** Server time the entry was written (ms since the epoch); undefined if the server did not say. */
  readonly createdMs?: number;
}

/** Compare-and-set key-value storage (JetStream KV). */
export interface KeyValueBucket {
  /** The current value, or null if the key never existed or was deleted. */
  get(key: string): Promise<KvRecord | null>;
  /**
   * Writes `value` if the key's revision is still `expectedRevision` (0 = the key must not exist).
   * Resolves with the new revision; rejects with `RevisionMismatchError` otherwise.
   */
  compareAndSet(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Unconditional write. */
  put(key: string, value: Uint8Array): Promise<number>;
  /**
   * Deletes the key (a delete marker). With `expectedRevision`, only if the key's revision is still
   * that one; rejects with `RevisionMismatchError` otherwise.
   */
  delete(key: string, expectedRevision?: number): Promise<void>;
  /**
   * The keys that have an entry in the bucket (those matching `filter`, NATS wildcards, default
   * all), from one read of its stream's state. A key whose last entry is a delete marker may be
   * among them: `get()` returns null for it.
   */
  keys(filter?: string): Promise<string[]>;
  /**
   * Streams the current value of every key (filtered by `key`, which may use NATS wildcards), then
   * every change. Entries that expire through the bucket TTL vanish without an event.
   */
  watch(options?: { key?: string }): Promise<KvWatch>;
  /** The bucket-wide TTL in ms (0: entries never expire). */
  ttlMs(): Promise<number>;
  /** The revision of the latest entry written to the bucket, any key (0: none yet). */
  lastRevision(): Promise<number>;
}

/** One entry seen by a {@link KvWatch}. */
export interface KvChange {
  readonly key: string;
  readonly operation: "put" | "delete";
  readonly value: Uint8Array;
  readonly revision: number;
  /** Server time the entry was written (ms since the epoch). */
  readonly createdMs: number;
}

/** The changes of a bucket, as an async iterable that ends when `stop()` is called or the watch fails. */
export interface KvWatch extends AsyncIterable<KvChange> {
  stop(): void;
}

/** A compare-and-set lost: somebody else wrote the key since `expectedRevision`. */
export class RevisionMismatchError extends Error {
  override name = "RevisionMismatchError";
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    options?: { cause?: unknown },
  ) {
    super(`revision of "${key}" is no longer ${expectedRevision}`, options);
  }
}
