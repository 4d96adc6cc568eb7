/**
 * `troupe ls hosts|shards|actors [-o json]`: what the mesh looks like right now.
 *
 * - hosts: the membership bucket (a host that died shows until its record expires, hostTtl);
 * - shards: the lease bucket, one row per held shard lease;
 * - actors: asks every host in the membership for its live activations (up to 1000 per host).
 */
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import { connect } from "../mesh.js";
import { decode } from "../messaging/codec.js";
import type { Subjects } from "../messaging/subjects.js";
import { parseHolder } from "../placement/leases.js";
import { type HostRecord, parseHostRecord } from "../placement/membership.js";
import type { KeyValueBucket, Transport } from "../transport/transport.js";
import { resolveTarget } from "./call.js";

export interface HostRow {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly types: string[];
  readonly shards: number;
  readonly activations: number;
}

export interface ShardRow {
  readonly type: string;
  readonly shard: number;
  readonly hostId: string;
  readonly hostName: string;
  readonly revision: number;
}

export interface ActorRow {
  readonly type: string;
  readonly id: string;
  readonly shard: number;
  readonly status: string;
  readonly queued: number;
  readonly hostId: string;
  readonly hostName: string;
}

async function entries(
  kv: KeyValueBucket | null,
): Promise<{ key: string; value: Uint8Array; revision: number }[]> {
  if (!kv) return [];
  const out: { key: string; value: Uint8Array; revision: number }[] = [];
  for (const key of await kv.keys()) {
    const rec = await kv.get(key);
    if (rec) out.push({ key, ...rec });
  }
  return out;
}

async function hostRecords(transport: Transport, subjects: Subjects): Promise<HostRecord[]> {
  const rows = await entries(await transport.existingKeyValue(subjects.hostsBucket()));
  return rows.flatMap((e) => parseHostRecord(e.value) ?? []).sort((a, b) => a.name.localeCompare(b.name));
}

/** Held shard leases, sorted by type and shard. */
export async function listShards(transport: Transport, subjects: Subjects): Promise<ShardRow[]> {
  const rows = await entries(await transport.existingKeyValue(subjects.leasesBucket()));
  return rows
    .flatMap((e) => {
      const k = subjects.parseLeaseKey(e.key);
      const h = parseHolder(e.value);
      return k && h ? [{ ...k, hostId: h.hostId, hostName: h.hostName, revision: e.revision }] : [];
    })
    .sort((a, b) => a.type.localeCompare(b.type) || a.shard - b.shard);
}

/** Hosts in the membership bucket, with the number of shard leases each holds. */
export async function listHosts(transport: Transport, subjects: Subjects): Promise<HostRow[]> {
  const [hosts, shards] = await Promise.all([
    hostRecords(transport, subjects),
    listShards(transport, subjects),
  ]);
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    status: h.status,
    types: [...h.types],
    shards: shards.filter((s) => s.hostId === h.id).length,
    activations: Object.values(h.activations).reduce((a, b) => a + (typeof b === "number" ? b : 0), 0),
  }));
}

/** Live activations, asked from every host in the membership (hosts that do not answer are skipped). */
export async function listActors(
  transport: Transport,
  subjects: Subjects,
  timeoutMs = 2000,
): Promise<ActorRow[]> {
  const hosts = await hostRecords(transport, subjects);
  const answers = await Promise.all(
    hosts.map(async (h) => {
      try {
        const out = await transport.request(subjects.hostActors(h.id), new Uint8Array(0), timeoutMs);
        if (out.kind !== "reply") return [];
        const body = decode(out.data) as { actors?: unknown } | null;
        if (!body || !Array.isArray(body.actors)) return [];
        return (body.actors as Record<string, unknown>[]).map((a) => ({
          type: String(a.type),
          id: String(a.id),
          shard: Number(a.shard),
          status: String(a.status),
          queued: Number(a.queued),
          hostId: h.id,
          hostName: h.name,
        }));
      } catch {
        return [];
      }
    }),
  );
  return answers.flat().sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
}

/** Renders rows as an aligned text table. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v ?? ""));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join("\n");
}

const COLUMNS = {
  hosts: ["name", "id", "status", "types", "shards", "activations"],
  shards: ["type", "shard", "hostName", "hostId", "revision"],
  actors: ["type", "id", "shard", "status", "queued", "hostName"],
} as const;

export type LsWhat = keyof typeof COLUMNS;

/** Runs `troupe ls <what>` and returns the text to print. */
export async function ls(what: string, output: "table" | "json" = "table"): Promise<string> {
  if (!(what in COLUMNS)) {
    throw new ConfigurationError(`troupe ls: expected hosts, shards or actors, got "${what}"`);
  }
  const { url, prefix } = await resolveTarget();
  const mesh = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  try {
    const rows: object[] =
      what === "hosts"
        ? await listHosts(mesh.transport, mesh.subjects)
        : what === "shards"
          ? await listShards(mesh.transport, mesh.subjects)
          : await listActors(mesh.transport, mesh.subjects);
    if (output === "json") return JSON.stringify(rows, null, 2);
    return table(rows as Record<string, unknown>[], [...COLUMNS[what as LsWhat]]);
  } finally {
    await mesh.close();
  }
}
