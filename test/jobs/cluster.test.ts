/**
 * Durable jobs on a 3-node JetStream cluster (R3 streams): the node leading the runner's consumer
 * is killed with SIGKILL while jobs flow. Pulls sent to the dead leader get no answer; the runner
 * must notice (the pull's expiry passes without a 408), pull again from the new leader, and every
 * job whose enqueue was acknowledged must still run. Waits are generous bounds, never speed
 * assertions.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { connect, consoleLogger, type Mesh } from "troupe";
import { enqueue, startJobRunner } from "../../runtime/jobs/index.js";
import { namesOf } from "../../runtime/jobs/streams.js";
import { RUNNER_CONSUMER } from "../../runtime/messaging/subjects.js";
import { eventually } from "../helpers/mesh.js";
import { startCluster } from "../helpers/nats.js";
import { seen, Work } from "./fixtures/actors.js";
import { sleep } from "./helpers.js";

test.serial(
  "jobs - the node leading the runner's consumer dies under load: every acknowledged job still runs",
  async (t) => {
    const cluster = await startCluster(t);
    const prefix = `jc${process.pid}`;
    const open = async () => {
      const m = await connect({
        servers: cluster.servers,
        prefix,
        replicas: 3,
        logger: consoleLogger("silent"),
      });
      t.teardown(() => m.close());
      return m;
    };
    const mesh: Mesh = await open();
    await mesh.host([Work], { jobs: false });
    const runner = await startJobRunner(mesh, [Work], {
      capacity: 16,
      ackWaitMs: 4000,
      pullExpiresMs: 2000,
      initialDelayMs: 100,
      maxDelayMs: 1000,
    });
    t.teardown(() => runner.stop());
    const producer = await open();

    const acknowledged: string[] = [];
    let refused = 0;
    let stop = false;
    let paused = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        while (paused) await sleep(20);
        const tag = `c${i}`;
        try {
          await enqueue(producer, Work, `w${i % 20}`, { keepResult: false, maxAttempts: 20 }).record(tag);
          acknowledged.push(tag);
        } catch {
          refused++; // not acknowledged: the producer knows it was not stored
          await sleep(50);
        }
      }
    })();
    await eventually(() => acknowledged.length >= 100, 60_000, "100 acknowledged jobs");
    // Let the queue drain so the runner's pull is waiting on the leader when it dies: that pull
    // is lost with the node, and only the runner's own expiry of it gets it pulling again.
    paused = true;
    await eventually(
      () => acknowledged.every((tag) => (seen.runs.get(tag) ?? 0) >= 1),
      60_000,
      "the queue to drain",
    );
    await sleep(300);

    // Find and kill the node that leads the runner's consumer.
    const nc = await natsConnect({ servers: cluster.urls });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(namesOf(mesh).jobsStream("Work"), RUNNER_CONSUMER);
    await nc.close();
    const leaderName = info.cluster?.leader;
    const leader = cluster.nodes.find((n) => n.serverName === leaderName);
    if (!leader) throw new Error(`no node named ${String(leaderName)} leads the consumer`);
    await leader.kill("SIGKILL");
    paused = false;
    const atKill = acknowledged.length;
    await eventually(
      () => acknowledged.length >= atKill + 100,
      90_000,
      "more jobs acknowledged after the consumer's leader died",
    );
    stop = true;
    await load;
    await eventually(
      () => acknowledged.every((tag) => (seen.runs.get(tag) ?? 0) >= 1),
      90_000,
      "every acknowledged job to run",
    );
    t.pass();
    t.log(
      `${acknowledged.length} acknowledged jobs all ran (killed consumer leader ${leaderName}); ${refused} enqueues refused during the fail-over`,
    );
  },
);
