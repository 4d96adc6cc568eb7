/**
 * {@link KeyValueBucket} on a nats.js KV bucket. Reads and compare-and-set updates go through the
 * transport's multiplexed inbox (direct gets, publishes with an expected revision) rather than
 * nats.js's `kv.get()`/`kv.update()`, which are `nc.request()` with an Error built per call; the
 * rest (create, delete, watch, status, keys) is nats.js's own.
 */
import { JetStreamApiError } from "@nats-io/jetstream";
import type { KV, Kvm } from "@nats-io/kv";
import { ConfigurationError, StateStoreError } from "../errors.js";
import { malformedHeadersError, type ReceivedHeaders } from "./headers.js";
import { DEFAULT_PUBACK_TIMEOUT_MS, JetStreamPublishError, pubAckOf } from "./pub-ack.js";
import { streamSubjectCounts } from "./stream-state.js";
import {
  type BucketOptions,
  type KeyValueBucket,
  type KvChange,
  type KvRecord,
  type KvWatch,
  type RequestOutcome,
  RevisionMismatchError,
} from "./transport.js";

/** What a bucket uses of its connection's transport. */
export interface BucketTransport {
  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: Record<string, string>,
  ): Promise<RequestOutcome>;
  assertFits(what: string, data: Uint8Array): void;
  setUpJetStream<T>(what: string, op: () => Promise<T>): Promise<T>;
  warnReceived(kind: string, msg: string, fields: Record<string, unknown>): void;
}

/** JetStream API error code for "wrong last sequence": a compare-and-set lost. */
const JS_WRONG_LAST_SEQUENCE = 10071;
const encoder = new TextEncoder();

/** A valid KV key (nats.js's rule): subject-safe characters, dots between tokens. */
const KV_KEY = /^[-/=.\w]+$/;

/** Runs a read of headers nats.js decodes itself (stored entries): the value, or why it failed. */
function guardedHeaderRead<T>(read: () => T): T | { readonly reason: string } {
  try {
    return read();
  } catch (err) {
    return { reason: `malformed header block: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export class NatsKeyValueBucket implements KeyValueBucket {
  /** Entries live at `$KV.<bucket>.<key>` (Troupe uses the default JetStream API prefix, no domains). */
  private readonly writePrefix: string;
  private readonly directGetSubject: string;
  /** Reads use direct gets until the bucket's stream turns out not to allow them. */
  private directGets = true;

  constructor(
    private readonly kv: KV,
    private readonly transport: BucketTransport,
    private readonly bucket: string,
  ) {
    this.writePrefix = `$KV.${bucket}.`;
    this.directGetSubject = `$JS.API.DIRECT.GET.KV_${bucket}`;
  }

  async get(key: string): Promise<KvRecord | null> {
    if (!this.directGets) {
      const entry = await this.kv.get(key);
      if (!entry) return null;
      // nats.js decodes the entry's stored header block here, and throws on a malformed one.
      const operation = guardedHeaderRead(() => entry.operation);
      if (typeof operation !== "string") throw malformedHeadersError(operation.reason);
      if (operation !== "PUT") return null;
      return { value: entry.value, revision: entry.revision, createdMs: entry.created.getTime() };
    }
    // A direct get of the key's last entry through the multiplexed inbox (kv.get() is
    // nc.request() underneath, with an Error built per call). Every activation with state reads
    // its state this way.
    this.assertKey(key);
    const subject = this.writePrefix + key;
    const outcome = await this.transport.request(
      this.directGetSubject,
      encoder.encode(`{"last_by_subj":${JSON.stringify(subject)}}`),
      DEFAULT_PUBACK_TIMEOUT_MS,
    );
    if (outcome.kind === "no-responders") {
      // The bucket's stream does not allow direct gets (created elsewhere without them).
      this.directGets = false;
      return this.get(key);
    }
    if (outcome.kind !== "reply") throw this.getFailed(key, `unexpected answer (${outcome.kind})`);
    const h = outcome.headers as ReceivedHeaders | undefined;
    const status = h?.code ?? 0;
    if (status === 404) return null; // no entry for the key
    if (status !== 0 && status !== 200) {
      throw this.getFailed(key, `${status} ${h?.description ?? ""}`.trim(), status);
    }
    if (h?.get("Nats-Subject") !== subject) return null;
    const operation = h.get("KV-Operation");
    if (operation === "DEL" || operation === "PURGE") return null;
    const revision = Number(h.get("Nats-Sequence"));
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw this.getFailed(key, "the answer carries no sequence");
    }
    // RFC 3339 with nanoseconds; Date.parse keeps the milliseconds.
    const createdMs = Date.parse(h.get("Nats-Time-Stamp"));
    return { value: outcome.data, revision, ...(Number.isFinite(createdMs) ? { createdMs } : {}) };
  }

  /** A direct get JetStream answered with something other than an entry or "no entry". */
  private getFailed(key: string, why: string, status?: number): StateStoreError {
    return new StateStoreError(`reading ${key} from bucket ${this.bucket} failed: ${why}`, {
      details: { bucket: this.bucket, key, ...(status === undefined ? {} : { status }) },
    });
  }

  private assertKey(key: string): void {
    if (!KV_KEY.test(key) || key.startsWith(".") || key.endsWith(".")) {
      throw new ConfigurationError(`invalid key-value key: ${key}`);
    }
  }

  async compareAndSet(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    // An update (every save of a changed state, every lease renewal) is a publish with the
    // expected revision, sent through the multiplexed inbox rather than kv.update(), which is
    // nc.request() with an Error built per call. Creation stays with nats.js: it also handles a
    // key whose last entry is a delete marker.
    if (expectedRevision > 0) return this.update(key, value, expectedRevision);
    this.transport.assertFits("a key-value entry", value);
    try {
      return await this.kv.create(key, value);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_WRONG_LAST_SEQUENCE) {
        throw new RevisionMismatchError(key, expectedRevision, { cause: err });
      }
      throw err;
    }
  }

  private async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    this.assertKey(key);
    const subject = this.writePrefix + key;
    const outcome = await this.transport.request(subject, value, DEFAULT_PUBACK_TIMEOUT_MS, {
      "Nats-Expected-Last-Subject-Sequence": String(expectedRevision),
    });
    try {
      return pubAckOf(subject, outcome).seq;
    } catch (err) {
      if (err instanceof JetStreamPublishError && err.errCode === JS_WRONG_LAST_SEQUENCE) {
        throw new RevisionMismatchError(key, expectedRevision, { cause: err });
      }
      throw err;
    }
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.kv.put(key, value);
  }

  async delete(key: string, expectedRevision?: number): Promise<void> {
    if (expectedRevision === undefined) return this.kv.delete(key);
    try {
      await this.kv.delete(key, { previousSeq: expectedRevision });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JS_WRONG_LAST_SEQUENCE) {
        throw new RevisionMismatchError(key, expectedRevision, { cause: err });
      }
      throw err;
    }
  }

  async watch(options: { key?: string } = {}): Promise<KvWatch> {
    const iter = await this.kv.watch(options.key ? { key: options.key } : {});
    const transport = this.transport;
    return {
      stop: () => iter.stop(),
      async *[Symbol.asyncIterator](): AsyncIterator<KvChange> {
        for await (const e of iter) {
          // The reader guard removes a malformed block before nats.js sees it; should it not be
          // installed, nats.js throws here: skip the entry rather than end the watch.
          const operation = guardedHeaderRead(() => e.operation);
          if (typeof operation !== "string") {
            transport.warnReceived(
              "kv-watch-malformed-headers",
              "skipped a key-value entry with a malformed header block",
              {
                key: e.key,
                reason: operation.reason,
              },
            );
            continue;
          }
          yield {
            key: e.key,
            operation: operation === "PUT" ? "put" : "delete",
            value: e.value,
            revision: e.revision,
            createdMs: e.created.getTime(),
          };
        }
      },
    };
  }

  async ttlMs(): Promise<number> {
    return (await this.kv.status()).ttl;
  }

  async lastRevision(): Promise<number> {
    return (await this.kv.status()).streamInfo.state.last_seq;
  }

  async keys(filter = ">"): Promise<string[]> {
    // The subjects in the bucket's stream state, where nats.js's kv.keys() runs an ordered
    // consumer over the stream, which on a bucket written all the time (heartbeats, lease
    // renewals) on a busy machine was seen to take over 20 s.
    const subjects = await streamSubjectCounts(
      this.transport,
      `KV_${this.bucket}`,
      this.writePrefix + filter,
      `bucket ${this.bucket} (keys)`,
    );
    const out: string[] = [];
    for (const subject of subjects.keys()) {
      if (subject.startsWith(this.writePrefix)) out.push(subject.slice(this.writePrefix.length));
    }
    return out;
  }
}

/**
 * A bucket of history 1 (created, or opened when another process created it): refused with
 * `ConfigurationError` when it exists with another TTL than `options.ttlMs`.
 */
export async function createKeyValue(
  kvm: Kvm,
  transport: BucketTransport,
  bucket: string,
  options: BucketOptions,
): Promise<KeyValueBucket> {
  const { kv, actualTtlMs } = await transport.setUpJetStream(`bucket ${bucket}`, async () => {
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
  return new NatsKeyValueBucket(kv, transport, bucket);
}

/** An existing bucket, or null when there is none. */
export async function openKeyValue(
  kvm: Kvm,
  transport: BucketTransport,
  bucket: string,
): Promise<KeyValueBucket | null> {
  try {
    const kv = await kvm.open(bucket);
    await kv.status();
    return new NatsKeyValueBucket(kv, transport, bucket);
  } catch (err) {
    if (err instanceof Error && /stream not found/i.test(err.message)) return null;
    throw err;
  }
}
