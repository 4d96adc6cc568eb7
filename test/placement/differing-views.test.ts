/**
 * Two hosts whose membership views differ never both serve a shard, nor run a turn of the same
 * actor at once. Both hosts live in this process, so the test can look at both at the same instant:
 * their views are forced apart with the (internal) `placement.view` hook, changing at random every
 * few hundred milliseconds under load, so that each host in turn wants shards the other holds,
 * hands shards off to a host that does not want them, or wants everything.
 *
 * TROUPE_RACE_MS sets how long the views keep changing (default 12 000 ms).
 */
import test from "ava";
import { Actor, connect, consoleLogger, type Host, type Mesh } from "troupe";
import type { PlacementOptions } from "../../runtime/placement/options.js";
import { startServer } from "../helpers/nats.js";
import { sleep, uniquePrefix, waitFor } from "./helpers.js";

/** Turns running right now, per actor id, over both hosts (they share this module). */
const running = new Map<string, number>();
const overlaps: string[] = [];

class Guarded extends Actor<{ value: number; ops: string[] }> {
  static initialState = () => ({ value: 0, ops: [] as string[] });
  static options = { shards: 8 };

  async add(op: string): Promise<number> {
    const n = running.get(this.id) ?? 0;
    if (n > 0) overlaps.push(`${this.id}: a turn started while ${n} other(s) ran`);
    running.set(this.id, n + 1);
    try {
      // Yield to the event loop inside the turn, so that another activation could interleave.
      await sleep(2);
      if (!this.state.ops.includes(op)) {
        this.state.value++;
        this.state.ops.push(op);
      }
      return this.state.value;
    } finally {
      running.set(this.id, (running.get(this.id) ?? 1) - 1);
    }
  }

  async get(): Promise<{ value: number; ops: string[] }> {
    return { value: this.state.value, ops: this.state.ops };
  }
}

type View = "both" | "self" | "other";

/** Leases long enough that a busy machine's event-loop stall does not lapse them: this test is about views. */
const TIMINGS: PlacementOptions = {
  heartbeatEveryMs: 500,
  hostTtlMs: 6000,
  safetyMarginMs: 1500,
  // Each host looks at its (changing) view this often.
  renewEveryMs: 300,
};

test("placement - hosts whose membership views differ never both serve a shard or run a turn of the same actor", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const views: Record<string, View> = { a: "both", b: "both" };
  const ids: Record<string, string> = {};
  const start = async (name: string, other: string): Promise<{ mesh: Mesh; host: Host }> => {
    const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
    t.teardown(() => mesh.close());
    const view = (_type: string, hostIds: string[]) => {
      const self = ids[name];
      const them = ids[other];
      if (self === undefined || them === undefined) return hostIds;
      if (views[name] === "self") return hostIds.filter((id) => id !== them);
      if (views[name] === "other") return hostIds.filter((id) => id !== self);
      return hostIds;
    };
    const host = await mesh.host([Guarded], { name, placement: { ...TIMINGS, view } });
    ids[name] = host.id;
    return { mesh, host };
  };
  const a = await start("a", "b");
  const b = await start("b", "a");
  const client = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => client.close());

  const held = (h: Host) => new Set((h.shards().Guarded ?? []).map((s) => s.shard));
  await waitFor("all 8 shards owned", () => held(a.host).size + held(b.host).size === 8);

  // Both hosts, looked at in the same instant (one thread): never a shard owned by both.
  const doubles: string[] = [];
  let moves = 0;
  let lastA = "";
  const sampler = setInterval(() => {
    const ha = held(a.host);
    const hb = held(b.host);
    for (const s of ha) if (hb.has(s)) doubles.push(`shard ${s}`);
    const key = [...ha].sort().join();
    if (key !== lastA) moves++;
    lastA = key;
  }, 10);
  t.teardown(() => clearInterval(sampler));

  // Load: idempotent increments retried until acknowledged, so the counters must be exact.
  const actorIds = Array.from({ length: 16 }, (_, i) => `g${i}`);
  const acked = new Map<string, number>();
  let loading = true;
  const workers = Array.from({ length: 4 }, async (_, w) => {
    for (let n = 0; loading; n++) {
      const id = actorIds[(w + n * 4) % actorIds.length] as string;
      for (;;) {
        try {
          await client.ref(Guarded, id, { timeoutMs: 2000 }).add(`w${w}-${n}`);
          acked.set(id, (acked.get(id) ?? 0) + 1);
          break;
        } catch {
          await sleep(20);
        }
      }
    }
  });

  // The views change at random; each pair of views is a different disagreement.
  const choices: View[] = ["both", "self", "other"];
  const until = Date.now() + Number(process.env.TROUPE_RACE_MS ?? 12_000);
  let phases = 0;
  while (Date.now() < until) {
    views.a = choices[Math.floor(Math.random() * 3)] as View;
    views.b = choices[Math.floor(Math.random() * 3)] as View;
    phases++;
    await sleep(150 + Math.random() * 500);
  }
  views.a = "both";
  views.b = "both";
  await waitFor("both hosts own shards again", () => held(a.host).size > 0 && held(b.host).size > 0);
  loading = false;
  await Promise.all(workers);
  clearInterval(sampler);

  for (const id of actorIds) {
    const r = await client.ref(Guarded, id, { timeoutMs: 10_000 }).get();
    t.is(r.value, acked.get(id) ?? 0, `${id}: final value == acknowledged increments`);
    t.is(r.ops.length, r.value);
  }
  t.deepEqual(doubles, [], "no shard was owned by both hosts at once");
  t.deepEqual(overlaps, [], "no two turns of one actor ran at once");
  t.true(moves > 2, `shards moved ${moves} times`);
  t.log(
    `${phases} view changes, ${moves} changes of a's shards, ${[...acked.values()].reduce((x, y) => x + y, 0)} increments`,
  );
});
