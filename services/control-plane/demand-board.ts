/**
 * Demand shared between control-plane replicas, so that each sizes its hosts' shares from every
 * host's demand and the shares of all hosts still sum to the limit. Every tick a replica writes
 * the demand of the hosts connected to it to the KV bucket `<prefix>_throttle_demand` under its own
 * replica id, and watches the other replicas' records. A record not refreshed within `staleMs`
 * (local monotonic time of arrival, so no clocks are compared) is ignored; the bucket's TTL removes
 * the records of replicas that are gone.
 *
 * The same record carries each host's scaling view (group, load report, throttling refusals), so a
 * replica's scaling decisions, ScalingService and KEDA answers count every host of a group, whichever
 * replica it is connected to (the queues' backlog each replica reads from JetStream itself).
 */
import type { Logger } from "troupe";
import type { KeyValueBucket, KvChange, Subjects, Transport } from "troupe/internal";
import { RestartingWatch } from "troupe/internal";
import type { Demand } from "./allocate.js";
import { demandKey } from "./demand.js";
import type { ConnectedHost } from "./host-channel.js";
import type { HostRole, HostView } from "./share-planner.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** [policy, key, rate, concurrency, allowedPerSecond, refusedPerSecond] */
type Row = [string, string, number, number, number, number];

/** A host's load as scaling reads it (the host channel's HostLoad). */
export interface SharedLoad {
  mailboxDepth: number;
  turnsInFlight: number;
  cpu: number;
  draining: boolean;
  jobCapacity: number;
}

interface ReplicaRecord {
  replica: string;
  hosts: {
    hostId: string;
    actorTypes: string[];
    role?: HostRole;
    rows: Row[];
    /** Absent in records of replicas from before scaling was shared: such hosts count as "default". */
    group?: string;
    load?: SharedLoad;
  }[];
}

export interface RemoteHost extends HostView {
  readonly actorTypes: readonly string[];
  readonly group: string;
  readonly load: SharedLoad | undefined;
  /** Turns its enforcer refused per second (smoothed), over all policies. */
  readonly throttledPerSecond: number;
  readonly replica: string;
  readonly rows: readonly Row[];
  /** How long ago this replica's record arrived (its hosts reported at most an interval before). */
  readonly ageMs: number;
}

export class DemandBoard {
  private readonly remote = new Map<string, { record: ReplicaRecord; seenAt: number }>();
  private readonly watch: RestartingWatch;

  private constructor(
    private readonly bucket: KeyValueBucket,
    private readonly replicaId: string,
    private readonly staleMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.watch = new RestartingWatch(
      bucket,
      (c) => this.apply(c),
      logger,
      "throttle demand watch",
      () => 1000,
    );
  }

  static async open(
    transport: Transport,
    subjects: Subjects,
    replicaId: string,
    reportIntervalMs: number,
    logger: Logger,
    options: { replicas?: number; now?: () => number } = {},
  ): Promise<DemandBoard> {
    const bucket = await transport.keyValue(subjects.throttleDemandBucket(), {
      ttlMs: 60_000,
      ...(options.replicas ? { replicas: options.replicas } : {}),
      description: "Troupe control-plane replicas' host demand",
    });
    const board = new DemandBoard(
      bucket,
      replicaId,
      reportIntervalMs * 3,
      logger,
      options.now ?? (() => performance.now()),
    );
    void board.watch.start();
    return board;
  }

  /** Writes this replica's hosts' demand (failures are logged: the next tick tries again). */
  async publish(hosts: readonly ConnectedHost[]): Promise<void> {
    const record: ReplicaRecord = {
      replica: this.replicaId,
      hosts: hosts.map((h) => ({
        hostId: h.hostId,
        actorTypes: [...h.actorTypes],
        role: h.role,
        group: h.group,
        ...(h.load ? { load: { ...h.load } } : {}),
        rows: [...h.usage.entries()].map(
          (d): Row => [d.policy, d.key, d.rate, d.concurrency, d.allowedPerSecond, d.refusedPerSecond],
        ),
      })),
    };
    try {
      await this.bucket.put(this.replicaId, encoder.encode(JSON.stringify(record)));
    } catch (err) {
      this.logger.warn("control plane: could not share host demand with other replicas", { err });
    }
  }

  /** Hosts connected to other live replicas (minus `exclude`, hosts connected here). */
  remoteHosts(exclude: ReadonlySet<string>): RemoteHost[] {
    const out: RemoteHost[] = [];
    const now = this.now();
    for (const [replica, { record, seenAt }] of this.remote) {
      if (now - seenAt > this.staleMs) continue;
      for (const h of record.hosts) {
        if (exclude.has(h.hostId)) continue;
        const byKey = new Map(h.rows.map((r) => [demandKey(r[0], r[1]), r]));
        out.push({
          hostId: h.hostId,
          actorTypes: h.actorTypes,
          role: h.role === "gateway" ? "gateway" : "host",
          group: h.group ?? "default",
          load: h.load,
          throttledPerSecond: h.rows.reduce((sum, r) => sum + r[5], 0),
          replica,
          rows: h.rows,
          ageMs: Math.round(now - seenAt),
          demand: (policy, key): Demand | undefined => {
            const r = byKey.get(demandKey(policy, key));
            return r ? { rate: r[2], concurrency: r[3] } : undefined;
          },
          entries: () => h.rows.map((r) => ({ policy: r[0], key: r[1], rate: r[2], concurrency: r[3] })),
        });
      }
    }
    return out;
  }

  close(): void {
    this.watch.stop();
  }

  private apply(change: KvChange): void {
    if (change.key === this.replicaId) return;
    if (change.operation === "delete") {
      this.remote.delete(change.key);
      return;
    }
    const record = parseRecord(change.value);
    if (record) this.remote.set(change.key, { record, seenAt: this.now() });
    else this.logger.warn("control plane: ignored an unreadable demand record", { replica: change.key });
  }
}

const GROUP = /^[A-Za-z0-9_-]{1,64}$/;

function isLoad(load: unknown): load is SharedLoad {
  if (typeof load !== "object" || load === null) return false;
  const l = load as Record<string, unknown>;
  const count = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  return (
    count(l.mailboxDepth) &&
    count(l.turnsInFlight) &&
    count(l.cpu) &&
    count(l.jobCapacity) &&
    typeof l.draining === "boolean"
  );
}

function parseRecord(bytes: Uint8Array): ReplicaRecord | undefined {
  try {
    const raw = JSON.parse(decoder.decode(bytes)) as ReplicaRecord;
    if (typeof raw.replica !== "string" || !Array.isArray(raw.hosts)) return undefined;
    const hosts = raw.hosts.filter(
      (h) =>
        typeof h?.hostId === "string" &&
        Array.isArray(h.rows) &&
        h.rows.every(
          (r) =>
            Array.isArray(r) &&
            typeof r[0] === "string" &&
            typeof r[1] === "string" &&
            r.slice(2).every((x) => typeof x === "number" && Number.isFinite(x)),
        ),
    );
    return {
      replica: raw.replica,
      hosts: hosts.map(({ group, load, ...h }) => ({
        ...h,
        actorTypes: Array.isArray(h.actorTypes) ? h.actorTypes.map(String) : [],
        ...(typeof group === "string" && GROUP.test(group) ? { group } : {}),
        ...(isLoad(load) ? { load } : {}),
      })),
    };
  } catch {
    return undefined;
  }
}
