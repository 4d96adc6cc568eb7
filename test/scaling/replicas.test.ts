/**
 * Several control-plane replicas, hosts connected to different ones: each replica counts every
 * host of a group (their loads are shared through the demand bucket), so any replica's
 * ScalingService (and KEDA) answer is the same.
 */
import test from "ava";
import { Actor, connect, consoleLogger } from "troupe";
import type { ScalingDecision__Output } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { startPlane, TOKEN } from "../control-plane/helpers.js";

class Chore extends Actor {
  static options = { stateless: true };
  async run(): Promise<void> {}
}

/** Jobs of a type no host runs: a backlog that stays. */
class Parked extends Actor {
  async run(): Promise<void> {}
}

test("scaling replicas - two control planes, hosts on each: both count every host and decide alike", async (t) => {
  const prefix = "screp";
  const policy = groupPolicy({
    group: "chores",
    minHosts: 1,
    maxHosts: 6,
    types: ["Parked"],
    targetBacklogPerHost: 10,
    scaleDownWindowMs: 0,
    stuckAfterMs: 600_000,
  });
  const first = await startPlane(t, { prefix, replicaId: "replica-1", scaling: { groups: [policy] } });
  const second = await first.start({ port: 0, replicaId: "replica-2" });
  const planes = [first.plane, second];
  const logger = consoleLogger("silent");
  const hostOn = async (address: string, group: string) => {
    const mesh = await connect({ servers: first.natsUrl, prefix, logger });
    t.teardown(() => mesh.close());
    await mesh.host([Chore], { group, throttling: { controlPlane: address, token: TOKEN } });
    return mesh;
  };
  const mesh = await hostOn(first.plane.address, "chores");
  await hostOn(second.address, "chores");
  // A group whose only host is connected to replica 2.
  await hostOn(second.address, "solo");

  const clients = planes.map((p) => connectControlPlane({ address: p.address, token: TOKEN }));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  const decisions = async (): Promise<Map<string, ScalingDecision__Output>[]> =>
    Promise.all(
      clients.map(
        (c) =>
          new Promise<Map<string, ScalingDecision__Output>>((resolve, reject) => {
            c.scaling.ListDecisions({}, c.metadata(), (err, res) =>
              err ? reject(err) : resolve(new Map((res?.decisions ?? []).map((d) => [d.group, d]))),
            );
          }),
      ),
    );
  let latest: Map<string, ScalingDecision__Output>[] = [];
  const poll = async (done: () => boolean, what: string) => {
    const end = performance.now() + 30_000;
    for (;;) {
      latest = await decisions();
      if (done()) return;
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}: ${summary(latest)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  await poll(
    () => latest.every((d) => d.get("chores")?.currentHosts === 2 && d.get("solo")?.currentHosts === 1),
    "both replicas to count both chores hosts and the solo host",
  );
  t.pass("each replica counts the host connected to the other one");

  // A backlog (35 jobs, 10 per host before a rate is known): both replicas want 4 hosts.
  for (let i = 0; i < 35; i++) await mesh.enqueue(Parked, `p${i}`, { keepResult: false }).run();
  await poll(
    () => latest.every((d) => d.get("chores")?.desiredHosts === 4 && d.get("chores")?.backlog === 35),
    "both replicas to want 4 hosts",
  );
  const [one, two] = latest.map((d) => d.get("chores"));
  t.is(one?.currentHosts, two?.currentHosts);
  t.is(one?.desiredHosts, two?.desiredHosts);
  t.is(one?.reason, two?.reason);
});

function summary(all: Map<string, ScalingDecision__Output>[]): string {
  return all
    .map((d, i) =>
      [...d.values()]
        .map((x) => `replica ${i + 1} ${x.group}: ${x.currentHosts}/${x.desiredHosts} (${x.reason})`)
        .join("; "),
    )
    .join(" | ");
}
