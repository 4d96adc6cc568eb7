/**
 * `troupe ls hosts|shards|actors|reminders [--type T] [-o table|json]`: what the mesh looks like
 * right now.
 *
 * - hosts: the membership bucket. A host that died stays in it until its record expires (hostTtl);
 *   one whose record is older than {@link SILENT_AFTER_BEATS} heartbeats is shown as `silent`;
 * - shards: the shard fences, one row per owned shard (its owner and epoch);
 * - actors: asks every host in the membership for its live activations (up to 1000 per host);
 * - reminders: the reminders bucket, with each reminder's pending occurrence (runtime/reminders).
 *
 * `--type T` keeps the hosts that host T, T's shards, T's activations, T's reminders.
 */

import { connect } from "../connect.js";
import { consoleLogger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import { decode } from "../messaging/index.js";
import {
  DEFAULT_HEARTBEAT_EVERY_MS,
  type HostRecord,
  parseFence,
  parseHostRecord,
} from "../placement/index.js";
import { listReminders, type ReminderRow } from "../reminders/index.js";
import { inBatches, type KeyValueBucket, type KvRecord, type Transport } from "../transport/index.js";
import { actorTypeFlag, oneOf, outputFlag, parseCommandArgs } from "./args.js";
import { resolveTarget } from "./call.js";
import type { CliIo } from "./command.js";

export const LS_USAGE = `Usage: troupe ls hosts|shards|actors|reminders [--type <Type>] [-o table|json]

  hosts      live hosts: status, last heartbeat, types, shard leases, activations
  shards     held shard leases (one row per shard)
  actors     live activations, asked from every host
  reminders  durable reminders: schedule, next occurrence, attempt (every one: use --type)
  --type <Type>   only that actor type's hosts, shards, activations or reminders
  -o json         JSON instead of a table`;

export interface HostRow {
  readonly id: string;
  readonly name: string;
  /** `serving` or `draining` as the host last wrote it, or `silent` (see {@link SILENT_AFTER_BEATS}). */
  readonly status: string;
  readonly types: string[];
  readonly shards: number;
  readonly activations: number;
  /**
   * Milliseconds since the host last wrote its record: the server's write time against this
   * machine's clock (so clock skew shows here); null if the server gave no time.
   */
  readonly lastSeenMsAgo: number | null;
}

/**
 * A host whose record is older than this many of its heartbeat intervals is listed as `silent`:
 * it died, was paused or is cut off from NATS. Others drop it once the record expires (hostTtl).
 */
export const SILENT_AFTER_BEATS = 3;

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

/**
 * Reads of one listing in flight at once: one at a time, a bucket of a few hundred shard fences
 * took a round trip each (20 s on a loaded machine); all at once, a bucket of 100,000 would flood
 * the connection.
 */
const LISTING_READS_IN_FLIGHT = 32;

async function entries(kv: KeyValueBucket | null): Promise<({ key: string } & KvRecord)[]> {
  if (!kv) return [];
  const keys = await kv.keys();
  const records: (KvRecord | null)[] = new Array(keys.length).fill(null);
  await inBatches(
    keys.map((key, i) => async () => {
      records[i] = await kv.get(key);
    }),
    LISTING_READS_IN_FLIGHT,
  );
  const out: ({ key: string } & KvRecord)[] = [];
  keys.forEach((key, i) => {
    const rec = records[i];
    if (rec) out.push({ key, ...rec });
  });
  return out;
}

interface ListedHost {
  readonly record: HostRecord;
  readonly createdMs: number | undefined;
}

async function hostRecords(transport: Transport, subjects: Subjects): Promise<ListedHost[]> {
  const rows = await entries(await transport.existingKeyValue(subjects.hostsBucket()));
  return rows
    .flatMap((e) => {
      const record = parseHostRecord(e.value);
      return record ? [{ record, createdMs: e.createdMs }] : [];
    })
    .sort((a, b) => a.record.name.localeCompare(b.record.name));
}

/**
 * Owned shards (fences naming an owner), sorted by type and shard. The revision is the shard's
 * epoch. A dead host's shards are listed under it until another host takes them over.
 */
export async function listShards(transport: Transport, subjects: Subjects): Promise<ShardRow[]> {
  const rows = await entries(await transport.existingKeyValue(subjects.shardsBucket()));
  return rows
    .flatMap((e) => {
      const k = subjects.parseLeaseKey(e.key);
      const h = parseFence(e.value, e.revision).owner;
      return k && h ? [{ ...k, hostId: h.hostId, hostName: h.hostName, revision: e.revision }] : [];
    })
    .sort((a, b) => a.type.localeCompare(b.type) || a.shard - b.shard);
}

/** Hosts in the hosts (lease) bucket, with the number of shards each owns. */
export async function listHosts(transport: Transport, subjects: Subjects): Promise<HostRow[]> {
  const [hosts, shards] = await Promise.all([
    hostRecords(transport, subjects),
    listShards(transport, subjects),
  ]);
  const now = Date.now();
  return hosts.map(({ record: h, createdMs }) => {
    const lastSeenMsAgo = createdMs === undefined ? null : Math.max(0, now - createdMs);
    const beat = h.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS;
    const silent = lastSeenMsAgo !== null && lastSeenMsAgo > SILENT_AFTER_BEATS * beat;
    return {
      id: h.id,
      name: h.name,
      status: silent ? "silent" : h.status,
      types: [...h.types],
      shards: shards.filter((s) => s.hostId === h.id).length,
      activations: Object.values(h.activations).reduce((a, b) => a + (typeof b === "number" ? b : 0), 0),
      lastSeenMsAgo,
    };
  });
}

/** Live activations, asked from every host in the membership (hosts that do not answer are skipped). */
export async function listActors(
  transport: Transport,
  subjects: Subjects,
  timeoutMs = 2000,
): Promise<ActorRow[]> {
  const hosts = await hostRecords(transport, subjects);
  const answers = await Promise.all(
    hosts.map(async ({ record: h }) => {
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

/** "0.4s ago", "12s ago"; "?" when unknown. */
export function ago(ms: number | null): string {
  if (ms === null) return "?";
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s ago` : `${Math.round(ms / 1000)}s ago`;
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
  hosts: ["name", "id", "status", "seen", "types", "shards", "activations"],
  shards: ["type", "shard", "hostName", "hostId", "revision"],
  actors: ["type", "id", "shard", "status", "queued", "hostName"],
  reminders: ["type", "id", "name", "every", "next", "attempt", "repairs"],
} as const;

export type LsWhat = keyof typeof COLUMNS;

const WHAT = ["hosts", "shards", "actors", "reminders"] as const;

/** Runs `troupe ls <what>` and returns the text to print. */
export async function ls(what: LsWhat, output: "table" | "json" = "table", type?: string): Promise<string> {
  const { url, prefix } = await resolveTarget();
  const mesh = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  try {
    const rows: object[] =
      what === "hosts"
        ? (await listHosts(mesh.transport, mesh.subjects)).filter((h) => !type || h.types.includes(type))
        : what === "shards"
          ? (await listShards(mesh.transport, mesh.subjects)).filter((r) => !type || r.type === type)
          : what === "actors"
            ? (await listActors(mesh.transport, mesh.subjects)).filter((r) => !type || r.type === type)
            : await listReminders(mesh, type);
    if (output === "json") return JSON.stringify(rows, null, 2);
    const shown =
      what === "hosts"
        ? (rows as HostRow[]).map((r) => ({ ...r, seen: ago(r.lastSeenMsAgo) }))
        : what === "reminders"
          ? (rows as ReminderRow[]).map(reminderCells)
          : rows;
    return table(shown as Record<string, unknown>[], [...COLUMNS[what]]);
  } finally {
    await mesh.close();
  }
}

/** A reminder as a table shows it: the period in seconds, the next occurrence as a UTC time. */
function reminderCells(r: ReminderRow): Record<string, unknown> {
  return {
    ...r,
    every: r.everyMs === null ? "once" : `${r.everyMs / 1000}s`,
    next:
      r.nextDueAtMs === null
        ? "none: lost, the next sweep restores it"
        : new Date(r.nextDueAtMs).toISOString(),
    attempt: r.attempt ?? "",
  };
}

/** `troupe ls ...` from the command line; returns the exit code. */
export async function lsCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(
    argv,
    { output: { type: "string", short: "o" }, type: { type: "string" } },
    { min: 1, max: 1, names: "hosts|shards|actors|reminders" },
  );
  const what = oneOf(positionals[0], WHAT, "one of");
  io.out(await ls(what, outputFlag(values.output), actorTypeFlag(values.type)));
  return 0;
}
