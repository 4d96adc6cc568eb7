/**
 * Placement under host faults: several host processes on one real nats-server.
 * Tests wait with generous timeouts and never assert how fast anything happened.
 */
import test from "ava";
import { HostUnresponsiveError, StaleActivationError } from "troupe";
import { type HostRow, listActors, listHosts, SILENT_AFTER_BEATS } from "../../runtime/cli/ls.js";
import { startJobRunner } from "../../runtime/jobs/index.js";
import { shardOf } from "../../runtime/placement/shard.js";
import { TALLY_SHARDS, Tally, type TallyReply } from "./fixtures/actors.js";
import {
  byHolder,
  FAST,
  Load,
  sleep,
  slowTurnStarted,
  startHosts,
  tallyIdOn,
  verifyCounters,
  waitFor,
  waitForShards,
} from "./helpers.js";

const ids = Array.from({ length: 24 }, (_, i) => `c${i}`);

test.serial(
  "placement - calls spread over 3 hosts; a killed host's actors answer again from the others, and no acknowledged increment is lost",
  async (t) => {
    const { host, mesh, rows } = await startHosts(t, ["a", "b", "c"]);

    const load = new Load(t, mesh, { ids, workers: 6, timeoutMs: 2000 });
    await waitFor("answers from all three hosts", () => load.hostsSeen.size === 3);

    const victimShards = new Set(byHolder(rows).get("b"));
    const victimIds = ids.filter((id) => victimShards.has(shardOf(id, TALLY_SHARDS)));
    t.true(victimIds.length > 0);
    const victim = host("b");
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
      (FAST.hostTtlMs ?? 0) + 30_000,
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
    // The caller keeps waiting on the paused host (no keepalive limit within the test): this test
    // is about what the paused turn may write when it wakes (the next one: what the caller sees).
    const { host, mesh, rows } = await startHosts(t, ["a", "b"], { client: { keepaliveTimeoutMs: 600_000 } });
    const a = host("a");
    const id = tallyIdOn(rows, "a", "p");
    const p = mesh.ref(Tally, id, { timeoutMs: 1000 });
    t.is((await p.add("first")).host, "a");

    // A turn is in flight on a when a is paused.
    const slow = mesh.ref(Tally, id, { timeoutMs: 60_000 }).slowAdd("slow", 1500);
    slow.catch(() => undefined);
    await slowTurnStarted(a);
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
      a.logs.some((l) => l.msg === "stopped serving a shard" && l.shard === shardOf(id, TALLY_SHARDS)),
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

test.serial(
  "placement - a call whose host is killed or paused mid-turn fails with HostUnresponsiveError long before its deadline",
  async (t) => {
    const { host, mesh, rows } = await startHosts(t, ["a", "b", "c"], {
      host: { keepaliveEveryMs: 300 },
      client: { keepaliveTimeoutMs: 2000 },
    });
    const [a, b] = [host("a"), host("b")];
    const idOn = (name: string) => tallyIdOn(rows, name, "k", 300);
    // Deadlines far beyond the test's own timeout: only the keepalive limit can end these calls.
    const slowly = (id: string) => mesh.ref(Tally, id, { timeoutMs: 600_000 }).slowAdd("slow", 600_000);

    // A call that outlives several keepalive limits is answered: its host says it is alive.
    const idA = idOn("a");
    t.is((await mesh.ref(Tally, idA, { timeoutMs: 600_000 }).slowAdd("long", 5000)).host, "a");

    // Killed mid-turn.
    const killed = slowly(idA);
    await slowTurnStarted(a, idA);
    a.signal("SIGKILL");
    const lost = await t.throwsAsync(killed, { instanceOf: HostUnresponsiveError });
    t.is(lost?.details.timeoutMs, 600_000);

    // Paused mid-turn: the same for the caller; the host goes on when it wakes (the turn may then
    // finish: the caller was told it may or may not have run).
    const idB = idOn("b");
    const paused = mesh.ref(Tally, idB, { timeoutMs: 600_000 }).slowAdd("paused", 8000);
    await slowTurnStarted(b, idB);
    b.signal("SIGSTOP");
    await t.throwsAsync(paused, { instanceOf: HostUnresponsiveError });
    b.signal("SIGCONT");

    // The mesh heals: both actors answer again (from whichever host holds them now), and the
    // turn of the killed host changed nothing.
    for (const id of [idA, idB]) {
      let state: { ops: string[] } | undefined;
      await waitFor(
        `${id} answers again`,
        async () => {
          state = await mesh.ref(Tally, id, { timeoutMs: 2000 }).get();
          return true;
        },
        60_000,
      );
      if (id === idA) t.false(state?.ops.includes("slow"), "the killed host's turn was not persisted");
    }
  },
);

test.serial(
  "placement - a durable job whose actor's host is killed mid-turn is retried on the new holder long before its timeout",
  async (t) => {
    // The hosts run no jobs: the runner is this process's, so its turn runs on another process.
    const { host, mesh, rows } = await startHosts(t, ["a", "b"], {
      host: { keepaliveEveryMs: 300, jobs: false },
      client: { keepaliveTimeoutMs: 2000 },
    });
    const runner = await startJobRunner(mesh, [Tally], { initialDelayMs: 100, maxDelayMs: 1000 });
    t.teardown(() => runner.stop());
    const a = host("a");
    const id = tallyIdOn(rows, "a", "j");

    // The job's timeout stays the default (15 minutes), far beyond this test's.
    const job = await mesh.enqueue(Tally, id).slowAdd("job-op", 1500);
    await slowTurnStarted(a, id);
    a.signal("SIGKILL");
    const result: TallyReply = await job.result({ timeoutMs: 90_000 });
    t.is(result.host, "b", "the retried attempt ran on the shard's new holder");
    t.is(result.value, 1, "applied once: the interrupted attempt saved nothing");
  },
);

test.serial(
  "placement - tells queued on a host that loses its shard while paused go back to their sender and run on the new holder",
  async (t) => {
    const { host, mesh, rows } = await startHosts(t, ["a", "b"], { client: { keepaliveTimeoutMs: 600_000 } });
    const a = host("a");
    const id = tallyIdOn(rows, "a", "q");

    // A slow turn holds the actor on a; tells queue behind it in its mailbox.
    const slow = mesh.ref(Tally, id, { timeoutMs: 60_000 }).slowAdd("slow", 3000);
    slow.catch(() => undefined);
    await slowTurnStarted(a, id);
    const ops = Array.from({ length: 10 }, (_, i) => `told-${i}`);
    for (const op of ops) mesh.ref(Tally, id, { timeoutMs: 60_000 }).tell.add(op);
    await mesh.transport.flush();
    // Every tell is in a's mailbox (not still on its way) before a is paused.
    await waitFor("the tells queued on a", async () =>
      (await listActors(mesh.transport, mesh.subjects)).some(
        (r) => r.id === id && r.hostName === "a" && r.queued >= ops.length,
      ),
    );
    a.signal("SIGSTOP");

    // b takes the shard over while a is paused; then a wakes, stands the shard down and refuses
    // the tells still queued: they must come back to this sender and run on b.
    const p = mesh.ref(Tally, id, { timeoutMs: 1000 });
    await waitFor(
      "b answers for the paused host's actor",
      async () => {
        try {
          return (await p.get()).host === "b";
        } catch {
          return false;
        }
      },
      60_000,
    );
    a.signal("SIGCONT");
    await waitFor(
      "every queued tell ran",
      async () => {
        const state = await p.get();
        return ops.every((op) => state.ops.includes(op));
      },
      60_000,
    );
    const final = await mesh.ref(Tally, id, { timeoutMs: 10_000 }).get();
    t.is(final.ops.filter((op) => op.startsWith("told-")).length, ops.length, "each tell ran once");
    t.false(final.ops.includes("slow"), "the paused turn's write was fenced off");
  },
);

test.serial("placement - `ls hosts` shows a killed host as silent while its record lingers", async (t) => {
  // A long hostTtl keeps the dead host's record in the bucket for the whole test.
  const placement = { ...FAST, hostTtlMs: 60_000 };
  const { host, mesh } = await startHosts(t, ["a", "b"], { host: { placement } });
  const statuses = (rows: HostRow[]) => rows.map((h) => `${h.name}:${h.status}`).join(" ");
  let rows = await listHosts(mesh.transport, mesh.subjects);
  await waitFor("both hosts listed as serving", async () => {
    rows = await listHosts(mesh.transport, mesh.subjects);
    return statuses(rows) === "a:serving b:serving";
  });
  for (const row of rows) t.true(row.lastSeenMsAgo !== null && row.lastSeenMsAgo >= 0, row.name);

  const b = host("b");
  b.signal("SIGKILL");
  await b.exited;
  // Without the record's age, b would be listed as serving until the record expires.
  await waitFor(
    "b listed as silent, a still serving",
    async () => {
      rows = await listHosts(mesh.transport, mesh.subjects);
      return statuses(rows) === "a:serving b:silent";
    },
    30_000,
  );
  const silent = rows.find((h) => h.name === "b");
  t.true((silent?.lastSeenMsAgo ?? 0) > SILENT_AFTER_BEATS * (FAST.heartbeatEveryMs ?? 0));
});
