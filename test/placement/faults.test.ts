/**
 * Placement under host faults: several host processes on one real nats-server.
 * Tests wait with generous timeouts and never assert how fast anything happened.
 */
import test from "ava";
import { StaleActivationError } from "troupe";
import { shardOf } from "../../runtime/placement/shard.js";
import { startServer } from "../helpers/nats.js";
import { Tally, type TallyReply } from "./fixtures/actors.js";
import {
  byHolder,
  client,
  FAST,
  Load,
  sleep,
  spawnHost,
  uniquePrefix,
  verifyCounters,
  waitFor,
  waitForShards,
} from "./helpers.js";

const ids = Array.from({ length: 24 }, (_, i) => `c${i}`);

test.serial(
  "placement - calls spread over 3 hosts; a killed host's actors answer again from the others, and no acknowledged increment is lost",
  async (t) => {
    const server = await startServer(t);
    const prefix = uniquePrefix();
    const hosts = ["a", "b", "c"].map((name) => spawnHost(t, { servers: server.url, prefix, name }));
    await Promise.all(hosts.map((h) => h.ready));
    const mesh = await client(t, server.url, prefix);
    const rows = await waitForShards(mesh, ["a", "b", "c"]);

    const load = new Load(t, mesh, { ids, workers: 6, timeoutMs: 2000 });
    await waitFor("answers from all three hosts", () => load.hostsSeen.size === 3);

    const victimShards = new Set(byHolder(rows).get("b"));
    const victimIds = ids.filter((id) => victimShards.has(shardOf(id, 16)));
    t.true(victimIds.length > 0);
    const victim = hosts[1];
    if (!victim) throw new Error("no victim");
    victim.signal("SIGKILL");
    await victim.exited;
    const ackedAtKill = load.totalAcked;

    // Every actor the dead host served answers again, from another host.
    await waitFor(
      "the dead host's actors answered by the others",
      () =>
        victimIds.every((id) => {
          const last = load.lastHost.get(id);
          return last !== undefined && last.ackNo > ackedAtKill && last.host !== "b";
        }),
      (FAST.leaseTtlMs ?? 0) + 30_000,
    );
    await waitForShards(mesh, ["a", "c"]);
    await load.stop();

    t.deepEqual(await verifyCounters(mesh, load), [], "final value == acknowledged increments, per counter");
    t.log(
      `acknowledged ${load.totalAcked} increments; ${load.failures.length} attempts failed and were retried`,
    );
  },
);

test.serial(
  "placement - a host paused past its lease stands down when it wakes: its stale write is rejected and it serves nothing it lost",
  async (t) => {
    const server = await startServer(t);
    const prefix = uniquePrefix();
    const a = spawnHost(t, { servers: server.url, prefix, name: "a" });
    const b = spawnHost(t, { servers: server.url, prefix, name: "b" });
    await Promise.all([a.ready, b.ready]);
    const mesh = await client(t, server.url, prefix);
    const rows = await waitForShards(mesh, ["a", "b"]);
    const aShards = new Set(byHolder(rows).get("a"));
    const id = Array.from({ length: 200 }, (_, i) => `p${i}`).find((x) => aShards.has(shardOf(x, 16)));
    if (!id) throw new Error("no id on host a");
    const p = mesh.ref(Tally, id, { timeoutMs: 1000 });
    t.is((await p.add("first")).host, "a");

    // A turn is in flight on a when a is paused.
    const slow = mesh.ref(Tally, id, { timeoutMs: 60_000 }).slowAdd("slow", 1500);
    slow.catch(() => undefined);
    await waitFor("the slow turn started on a", () => a.logs.some((l) => l.msg === "slowAdd started"));
    a.signal("SIGSTOP");

    // Meanwhile b takes the shard over and writes the actor.
    let n = 0;
    const addUntilAcked = async (op: string): Promise<TallyReply> => {
      for (;;) {
        try {
          return await p.add(op);
        } catch {
          await sleep(50);
        }
      }
    };
    await waitFor(
      "b answers for the paused host's actor",
      async () => (await addUntilAcked(`during-${n++}`)).host === "b",
      60_000,
    );
    a.signal("SIGCONT");

    // The paused turn's write is fenced off by the state revision.
    await t.throwsAsync(slow, { instanceOf: StaleActivationError });
    await waitFor("a logs that it stopped serving the shard", () =>
      a.logs.some((l) => l.msg === "stopped serving a shard" && l.shard === shardOf(id, 16)),
    );
    t.true(
      a.logs.some((l) => l.msg === "activation stood down: its state revision is stale" && l.actorId === id),
    );

    // Sequential increments after the wake: each answer is exactly one more than the last, whoever
    // answers (the shard may legitimately move back to a through a hand-off); a host answering from
    // a stale lease would answer from its old state.
    let last = (await mesh.ref(Tally, id, { timeoutMs: 10_000 }).get()).value;
    const answeredBy = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await addUntilAcked(`after-${i}`);
      t.is(r.value, last + 1, `answer ${i} from ${r.host}`);
      last = r.value;
      answeredBy.add(r.host);
      await sleep(50);
    }
    const final = await mesh.ref(Tally, id, { timeoutMs: 10_000 }).get();
    t.false(final.ops.includes("slow"), "the stale turn's change was not persisted");
    t.is(final.value, final.ops.length);
    t.log(`after the wake answered by: ${[...answeredBy].join(", ")}`);
  },
);
