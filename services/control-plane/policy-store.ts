/**
 * Throttle policies in a JetStream KV bucket (`<prefix>_throttle_policies`, key = policy name,
 * value = the validated policy as JSON). The bucket is the only state: every control-plane replica
 * writes through it and keeps an in-memory copy fed by a watch of it, so a restarted replica loses
 * nothing and all replicas converge on the same policies (stateless design, no leader).
 *
 * Reads for the API (`get`, `list`) go to the bucket, so a policy set on one replica is visible
 * at once on every other; the share planner uses the watched copy ({@link PolicyStore.current}).
 */
import type { Logger } from "troupe";
import type { KeyValueBucket, KvChange, Subjects, Transport } from "troupe/internal";
import {
  InvalidPolicyError,
  type Policy,
  RestartingWatch,
  validatePolicy,
  validatePolicyName,
} from "troupe/internal";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface PolicyStoreOptions {
  /** Replicas of the bucket's stream (3 in a 3-node NATS cluster). Default 1. */
  replicas?: number;
  /** Pause before a failed watch is started again. Default 1000 ms. */
  watchRetryMs?: number;
}

export class PolicyStore {
  private readonly cache = new Map<string, Policy>();
  private readonly listeners = new Set<() => void>();
  private readonly watch: RestartingWatch;

  private constructor(
    private readonly bucket: KeyValueBucket,
    private readonly logger: Logger,
    watchRetryMs: number,
  ) {
    this.watch = new RestartingWatch(
      bucket,
      (change) => this.apply(change),
      logger,
      "throttle policy watch",
      () => watchRetryMs,
    );
  }

  static async open(
    transport: Transport,
    subjects: Subjects,
    logger: Logger,
    options: PolicyStoreOptions = {},
  ): Promise<PolicyStore> {
    const bucket = await transport.keyValue(subjects.throttlePoliciesBucket(), {
      ...(options.replicas ? { replicas: options.replicas } : {}),
      description: "Troupe throttle policies (control plane)",
    });
    const store = new PolicyStore(bucket, logger, options.watchRetryMs ?? 1000);
    for (const policy of await store.list()) store.cache.set(policy.name, policy);
    void store.watch.start();
    return store;
  }

  /** Validates and stores a policy (replacing one of the same name); returns it with its revision. */
  async set(raw: unknown): Promise<Policy> {
    const policy = validatePolicy(raw);
    const { revision: _ignored, ...stored } = policy;
    const revision = await this.bucket.put(policy.name, encoder.encode(JSON.stringify(stored)));
    const saved = { ...policy, revision };
    this.remember(saved);
    return saved;
  }

  async get(name: string): Promise<Policy | null> {
    validatePolicyName(name);
    const record = await this.bucket.get(name);
    return record ? this.decode(name, record.value, record.revision) : null;
  }

  /** Every stored policy, by name. */
  async list(): Promise<Policy[]> {
    const out: Policy[] = [];
    for (const name of (await this.bucket.keys()).sort()) {
      const policy = await this.get(name).catch((err: unknown) => {
        if (err instanceof InvalidPolicyError) return null;
        throw err;
      });
      if (policy) out.push(policy);
    }
    return out;
  }

  /** Deletes a policy; false when there was none. */
  async delete(name: string): Promise<boolean> {
    validatePolicyName(name);
    const existing = await this.bucket.get(name);
    if (!existing) return false;
    await this.bucket.delete(name);
    this.forget(name);
    return true;
  }

  /** The policies in force, as last seen by the watch (or written here). */
  current(): Policy[] {
    return [...this.cache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Calls `listener` whenever the policies in force change. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.watch.stop();
    this.listeners.clear();
  }

  private apply(change: KvChange): void {
    if (change.operation === "delete") {
      this.forget(change.key);
      return;
    }
    const policy = this.decode(change.key, change.value, change.revision);
    if (policy) this.remember(policy);
  }

  private remember(policy: Policy): void {
    const known = this.cache.get(policy.name);
    if (known && known.revision >= policy.revision) return;
    this.cache.set(policy.name, policy);
    this.changed();
  }

  private forget(name: string): void {
    if (this.cache.delete(name)) this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error("throttle policy listener failed", { err });
      }
    }
  }

  /** A stored record is validated again: the bucket is writable by anyone with NATS access. */
  private decode(name: string, bytes: Uint8Array, revision: number): Policy | null {
    try {
      const policy = validatePolicy({ ...JSON.parse(decoder.decode(bytes)), revision });
      if (policy.name !== name) throw InvalidPolicyError.of("name", `differs from its key "${name}"`);
      return policy;
    } catch (err) {
      this.logger.error("throttle policy store: ignored an unreadable record", { key: name, revision, err });
      return null;
    }
  }
}
