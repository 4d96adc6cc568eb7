/**
 * The actor types some host serves, in the KV bucket `<prefix>_types`. Callers consult it to tell
 * "this type does not exist" (fail at once) from "its shard is moving" (retry), and the CLI reads
 * shard counts from it to call a type by name.
 */
import { ConfigurationError } from "../errors.js";
import type { Subjects } from "../messaging/index.js";
import { decode, encode } from "../messaging/index.js";
import type { KeyValueBucket, Transport } from "../transport/index.js";
import { RevisionMismatchError } from "../transport/index.js";

export interface TypeRecord {
  readonly name: string;
  readonly shards: number;
  readonly stateful: boolean;
  readonly handlers: readonly string[];
}

export class TypeRegistry {
  private bucket: Promise<KeyValueBucket> | undefined;
  private readonly known = new Map<string, TypeRecord>();

  constructor(
    private readonly transport: Transport,
    private readonly subjects: Subjects,
    private readonly replicas: number,
  ) {}

  private open(): Promise<KeyValueBucket> {
    this.bucket ??= this.transport
      .keyValue(this.subjects.typesBucket(), {
        replicas: this.replicas,
        description: "Troupe actor types served by some host",
      })
      .catch((err) => {
        this.bucket = undefined;
        throw err;
      });
    return this.bucket;
  }

  /** Records `record`; refuses a shard count that differs from the registered one. */
  async register(record: TypeRecord): Promise<void> {
    const kv = await this.open();
    for (;;) {
      const existing = await kv.get(record.name);
      if (existing) {
        const prev = parseRecord(existing.value);
        if (prev && prev.shards !== record.shards) {
          throw new ConfigurationError(
            `actor type ${record.name} is registered with ${prev.shards} shards, this host has ${record.shards}: changing the shard count of a running mesh is not supported`,
          );
        }
      }
      try {
        await kv.compareAndSet(record.name, encode(record), existing?.revision ?? 0);
        this.known.set(record.name, record);
        return;
      } catch (err) {
        if (!(err instanceof RevisionMismatchError)) throw err;
      }
    }
  }

  /** The registered type, or null if no host ever served it. Positive answers are cached. */
  async lookup(name: string): Promise<TypeRecord | null> {
    const cached = this.known.get(name);
    if (cached) return cached;
    const kv = await this.open();
    const rec = await kv.get(name);
    const parsed = rec ? parseRecord(rec.value) : null;
    if (parsed) this.known.set(name, parsed);
    return parsed;
  }

  async list(): Promise<TypeRecord[]> {
    const kv = await this.open();
    const out: TypeRecord[] = [];
    for (const key of await kv.keys()) {
      const rec = await kv.get(key);
      const parsed = rec ? parseRecord(rec.value) : null;
      if (parsed) out.push(parsed);
    }
    return out;
  }
}

function parseRecord(bytes: Uint8Array): TypeRecord | null {
  try {
    const raw = decode(bytes) as Partial<TypeRecord> | null;
    if (!raw || typeof raw.name !== "string" || typeof raw.shards !== "number") return null;
    return {
      name: raw.name,
      shards: raw.shards,
      stateful: raw.stateful === true,
      handlers: Array.isArray(raw.handlers) ? raw.handlers.filter((h) => typeof h === "string") : [],
    };
  } catch {
    return null;
  }
}
