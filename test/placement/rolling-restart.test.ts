/**
 * A rolling restart of every host process, one at a time (drained, then started again under the
 * same name, which gives it a new host id), under load: each step converges on the assignment over
 * the new set of hosts, every shard owned; a shard changes owner only where the assignment changed
 * (the drained host's shards, then the restarted host's new share); no call fails and every counter
 * is exact.
 */
import test from "ava";
import { listHosts } from "../../runtime/cli/ls.js";
import { parseFence } from "../../runtime/placement/index.js";
import { assignShards } from "../../runtime/placement/rendezvous.js";
import { TALLY_SHARDS } from "./fixtures/actors.js";
import { Load, spawnHost, startHosts, verifyCounters, waitFor, waitForShards } from "./helpers.js";

const NAMES = ["r0", "r1", "r2", "r3"];
const ids = Array.from({ length: 24 }, (_, i) => `roll${i}`);

/** Shards whose host differs between two assignments. */
const diff = (a: string[], b: string[]) => a.filter((h, i) => h !== b[i]).length;

test.serial(
  "placement - a rolling restart of every host converges after each step, moves only what the assignment moves, and loses no call",
  async (t) => {
    t.timeout(60_000 + NAMES.length * 90_000);
    const { servers, prefix, host, mesh } = await startHosts(t, NAMES, { host: { jobs: false } });
    const idsOf = async (names: string[]) => {
      const records = await listHosts(mesh.transport, mesh.subjects);
      return names.map((n) => records.find((r) => r.name === n && r.status === "serving")?.id as string);
    };

    // Every owner change of a Tally fence, seen by a watch of the shards bucket.
    const bucket = await mesh.transport.existingKeyValue(mesh.subjects.shardsBucket());
    if (!bucket) throw new Error("no shards bucket");
    const owner = new Map<number, string>();
    let ownerChanges = 0;
    const watch = await bucket.watch({ key: mesh.subjects.shardFenceFilter("Tally") });
    t.teardown(() => watch.stop());
    void (async () => {
      for await (const c of watch) {
        const shard = mesh.subjects.parseLeaseKey(c.key)?.shard;
        const holder = c.operation === "put" ? parseFence(c.value, c.revision).owner : undefined;
        if (shard === undefined || !holder) continue;
        const was = owner.get(shard);
        if (was !== undefined && was !== holder.hostId) ownerChanges++;
        owner.set(shard, holder.hostId);
      }
    })();
    let current = await idsOf(NAMES);
    await waitFor("the watch replayed every fence", () =>
      Array.from({ length: TALLY_SHARDS }, (_, s) => s).every((s) => owner.has(s)),
    );

    // No retries: with a deadline longer than a hand-off every single call must succeed.
    const load = new Load(t, mesh, { ids, workers: 6, timeoutMs: 10_000, retry: false });
    await waitFor("answers from every host", () => load.hostsSeen.size === NAMES.length);

    const procs = new Map(NAMES.map((n) => [n, host(n)]));
    /** Log lines, over the live host processes, saying a host lease lapsed on a starved machine. */
    const lapses = () =>
      [...procs.values()].reduce(
        (n, p) =>
          n +
          p.logs.filter(
            (l) => String(l.msg).includes("host lease lost") || l.reason === "host lease not renewed in time",
          ).length,
        0,
      );
    const steps: string[] = [];
    for (const name of NAMES) {
      const changesBefore = ownerChanges;
      const lapsesBefore = lapses();
      const before = assignShards("Tally", TALLY_SHARDS, current);
      const leaver = current[NAMES.indexOf(name)] as string;
      const without = assignShards(
        "Tally",
        TALLY_SHARDS,
        current.filter((id) => id !== leaver),
      );
      const started = Date.now();
      t.is(await procs.get(name)?.drain(), 0, `${name} drained`);
      const again = spawnHost(t, { servers, prefix, name, jobs: false });
      procs.set(name, again);
      await again.ready;
      const rows = await waitForShards(mesh, NAMES, 60_000);
      t.is(rows.length, TALLY_SHARDS, "every shard owned");
      current = await idsOf(NAMES);
      const after = assignShards("Tally", TALLY_SHARDS, current);
      // Every shard the assignment moved changed owner (fences now match `after`); any other owner
      // change would be a shard moved for nothing. Wait for the watch to have seen the last one.
      const expected = diff(before, without) + diff(without, after);
      await waitFor("the watch saw the fences settle", () =>
        rows.every((r) => owner.get(r.shard) === r.hostId),
      );
      const moved = ownerChanges - changesBefore;
      // A host that lost its lease on a starved machine stands its shards down and takes them back
      // (no owner change); one whose lease expired is taken over: say so rather than fail.
      if (lapses() > lapsesBefore) t.log(`${name}: a host lease lapsed during the step; moves not compared`);
      else t.is(moved, expected, `${name}: owner changes equal the assignment's moves`);
      steps.push(`${name} ${moved} moved (assignment ${expected}) in ${Date.now() - started} ms`);
    }
    await load.stop();
    t.deepEqual(load.failures, [], "no call failed");
    t.deepEqual(await verifyCounters(mesh, load), [], "final value == acknowledged increments, per counter");
    t.log(steps.join("; "));
    t.log(`acknowledged ${load.totalAcked} increments`);
  },
);
