/**
 * One process of the placement simulator's real-server mode (bench/placement-sim.ts --real):
 * many simulated hosts on one NATS connection. Each is the real placement of a host (runtime/
 * placement: host lease, roster, monitor, fences, shard ownership, wired as runtime/host/host.ts
 * wires them) without actors: owning a shard subscribes to its subject, and a call there is
 * answered with the host's id. Every host reaches the buckets through its own counter, so the
 * process reports, per host, the KV writes it made, the KV entries its watches received and the
 * other KV requests it sent.
 *
 *   node --conditions=troupe-source --import tsx bench/lib/placement-sim-hosts.ts
 *
 * Environment: NATS_URL, TROUPE_PREFIX, SIM (JSON: types, shards, placement options), SIM_LOG
 * (`warn` to see placement's warnings; errors only otherwise). Commands on
 * stdin, one JSON object a line: `{"op":"start","slot":3}`, `{"op":"drain","slot":3}` (graceful),
 * `{"op":"kill","slot":3}` (stops at once, deletes nothing: its lease expires, as after a SIGKILL),
 * `{"op":"stats"}`. Events on stdout, one JSON object a line: `started` (slot, id), `drained`,
 * `killed`, `stats` (per host counters, this process's CPU), `failed` (slot, error).
 */
import { createInterface } from "node:readline";
import { Actor, connect, consoleLogger } from "troupe";
import { type ActorType, actorTypeOf } from "../../runtime/actor/index.js";
import { encode } from "../../runtime/messaging/index.js";
import {
  FenceStore,
  type HostRecord,
  Membership,
  type PlacementOptions,
  provedGone,
  resolvePlacementOptions,
  ShardOwnership,
} from "../../runtime/placement/index.js";
import type { KeyValueBucket, SubscriptionHandle } from "../../runtime/transport/index.js";

export interface SimConfig {
  readonly types: number;
  readonly shards: number;
  readonly placement: PlacementOptions;
}

interface Counters {
  writes: number;
  deliveries: number;
  requests: number;
  /** Times this host's lease lapsed on its own clock (it could not renew in time: a starved process). */
  lapses: number;
}

/** `bucket` as seen by one host: the same bucket, every operation counted. */
function counted(bucket: KeyValueBucket, c: Counters): KeyValueBucket {
  return {
    get: (key) => {
      c.requests++;
      return bucket.get(key);
    },
    compareAndSet: (key, value, revision) => {
      c.writes++;
      return bucket.compareAndSet(key, value, revision);
    },
    put: (key, value) => {
      c.writes++;
      return bucket.put(key, value);
    },
    delete: (key, revision) => {
      c.writes++;
      return bucket.delete(key, revision);
    },
    keys: () => {
      c.requests++;
      return bucket.keys();
    },
    watch: async (options) => {
      c.requests++;
      const watch = await bucket.watch(options);
      return {
        stop: () => watch.stop(),
        async *[Symbol.asyncIterator]() {
          for await (const change of watch) {
            c.deliveries++;
            yield change;
          }
        },
      };
    },
    ttlMs: () => bucket.ttlMs(),
    lastRevision: () => {
      c.requests++;
      return bucket.lastRevision();
    },
  };
}

const config = JSON.parse(process.env.SIM ?? "{}") as SimConfig;
const options = resolvePlacementOptions(config.placement);
const logger = consoleLogger(process.env.SIM_LOG === "warn" ? "warn" : "error", { sim: process.pid });
const mesh = await connect({
  servers: process.env.NATS_URL,
  prefix: process.env.TROUPE_PREFIX,
  logger: consoleLogger("error"),
});
const { transport, subjects } = mesh;
const types: ActorType[] = Array.from({ length: config.types }, (_, i) =>
  actorTypeOf(
    class extends Actor {
      static typeName = `Sim${i}`;
      static options = { shards: config.shards };
    },
  ),
);
const [hostsBucket, membersBucket, shardsBucket] = await Promise.all([
  transport.keyValue(subjects.hostsBucket(), { ttlMs: options.hostTtlMs }),
  transport.keyValue(subjects.membersBucket()),
  transport.keyValue(subjects.shardsBucket()),
]);

class SimHost {
  readonly counters: Counters = { writes: 0, deliveries: 0, requests: 0, lapses: 0 };
  readonly id = `h${Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, "0")}`;
  private membership: Membership | undefined;
  private fences: FenceStore | undefined;
  private readonly owned: ShardOwnership[] = [];

  constructor(readonly slot: number) {}

  async start(): Promise<void> {
    const hosts = counted(hostsBucket, this.counters);
    const self: HostRecord = {
      id: this.id,
      name: `sim-${this.slot}`,
      types: types.map((t) => t.name),
      status: "serving",
      startedAtMs: Date.now(),
      activations: {},
      heartbeatEveryMs: options.heartbeatEveryMs,
    };
    const membership = new Membership(
      { hosts, members: counted(membersBucket, this.counters) },
      self,
      options,
      logger,
    );
    this.membership = membership;
    await membership.start();
    const fences = new FenceStore(
      counted(shardsBucket, this.counters),
      logger,
      options.heartbeatEveryMs,
      types.map((t) => subjects.shardFenceFilter(t.name)),
    );
    this.fences = fences;
    fences.start();
    await membership.ready(2 * options.heartbeatEveryMs);
    for (const type of types) {
      const reply = encode({ host: this.id });
      this.owned.push(
        new ShardOwnership(
          type,
          membership,
          fences,
          (id) => provedGone(hosts, id),
          subjects,
          options,
          {
            subscribe: (shard): SubscriptionHandle =>
              transport.subscribe(
                subjects.rpc(type.name, shard),
                { queue: subjects.rpcQueueGroup(type.name) },
                (msg) => {
                  if (msg.reply) transport.reply(msg.reply, reply);
                },
              ),
            deactivate: async () => undefined,
            abandon: () => 0,
          },
          logger,
        ),
      );
    }
    const byType = new Map(types.map((t, i) => [t.name, this.owned[i] as ShardOwnership]));
    membership.onChange(() => {
      for (const o of this.owned) o.reconcileSoon();
    });
    fences.onChange((key) => {
      const parsed = subjects.parseLeaseKey(key);
      if (parsed) byType.get(parsed.type)?.fenceChanged(parsed.shard);
    });
    membership.lease.onChange((e) => {
      if (e === "lost") this.counters.lapses++;
      for (const o of this.owned) {
        if (e === "lost") o.standDown("host lease not renewed in time");
        else o.reconcileSoon();
      }
    });
    await Promise.all(this.owned.map((o) => o.start()));
  }

  /** Graceful: announce draining, hand every shard off, leave (as `host.drain()`). */
  async drain(): Promise<void> {
    await this.membership?.setStatus("draining");
    for (const o of this.owned) await o.drain();
    this.fences?.stop();
    await this.membership?.leave();
  }

  /** Abrupt: stop renewing, watching and serving; nothing is deleted (the lease expires by TTL). */
  kill(): void {
    for (const o of this.owned) o.stop();
    this.fences?.stop();
    this.membership?.stop();
  }
}

const live = new Map<number, SimHost>();
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function run(cmd: { op: string; slot?: number }): Promise<void> {
  const slot = cmd.slot ?? -1;
  try {
    if (cmd.op === "start") {
      const host = new SimHost(slot);
      live.set(slot, host);
      try {
        await host.start();
      } catch (err) {
        // A start that timed out on a starved machine: stop what it began (its lease expires).
        host.kill();
        live.delete(slot);
        throw err;
      }
      say({ event: "started", slot, id: host.id });
    } else if (cmd.op === "drain") {
      const host = live.get(slot);
      live.delete(slot);
      await host?.drain();
      say({ event: "drained", slot });
    } else if (cmd.op === "kill") {
      live.get(slot)?.kill();
      live.delete(slot);
      say({ event: "killed", slot });
    } else if (cmd.op === "stats") {
      const cpu = process.cpuUsage();
      say({
        event: "stats",
        cpuMs: (cpu.user + cpu.system) / 1000,
        hosts: [...live.values()].map((h) => ({ slot: h.slot, id: h.id, ...h.counters })),
      });
    }
  } catch (err) {
    const where = err instanceof Error ? (err.stack ?? "").split("\n").slice(1, 4).join(" <") : "";
    say({
      event: "failed",
      slot,
      op: cmd.op,
      error: err instanceof Error ? `${err.message} at ${where}` : String(err),
    });
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "") void run(JSON.parse(line) as { op: string; slot?: number });
});
process.stdin.on("end", () => {
  for (const h of live.values()) h.kill();
  void mesh.close().finally(() => process.exit(0));
});
