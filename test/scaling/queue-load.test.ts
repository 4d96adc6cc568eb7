/**
 * What the control plane reads of a job queue, against a real nats-server, while jobs keep
 * arriving: the first decisions after a burst starts are made from these rates. Arrivals must come
 * from the same consumer snapshot as the backlog; read from the stream a moment earlier, every job
 * stored between the two reads inflated the backlog's growth against the arrivals, and the next
 * sample counted the difference as completions (a host nobody ran seemed to complete jobs, so the
 * first decisions over-rated a host's throughput and asked for too few hosts).
 */
import test from "ava";
import { jobQueueLoad, jobQueueName } from "troupe/internal";
import { JobNames, RUNNER_CONSUMER } from "../../runtime/messaging/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { QueueRates } from "../../services/control-plane/scaling/queue-rates.js";
import { openTransport } from "../control-plane/helpers.js";
import { startServer } from "../helpers/nats.js";

const SAMPLES = 60;
const PUBLISHERS = 8;

test("queue load - jobs arriving while the queue is read are arrivals, never completions, when nothing runs", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const transport = await openTransport(t, server.url);
  const queues = jetStreamQueues(transport);
  const names = new JobNames("ql");
  const stream = names.jobsStream("Work");
  await queues.ensureStream({ name: stream, subjects: [names.jobsFilter("Work")], retention: "workqueue" });
  // The runner's consumer exists but nobody pulls: every stored job stays pending.
  await queues.ensurePullConsumer({
    stream,
    durable: RUNNER_CONSUMER,
    filterSubject: names.jobsFilter("Work"),
    ackWaitMs: 30_000,
    maxAckPending: 16,
  });

  let publishing = true;
  let published = 0;
  const publishers = Array.from({ length: PUBLISHERS }, async (_, p) => {
    for (let i = 0; publishing; i++) {
      await queues.publish(names.jobSubject("Work", `p${p}-${i}`), new Uint8Array(8));
      published += 1;
    }
  });
  t.teardown(async () => {
    publishing = false;
    await Promise.allSettled(publishers);
  });
  // Sample only once jobs are flowing, so each read races with arrivals.
  while (published < 50) await new Promise((r) => setTimeout(r, 5));

  const rates = new QueueRates();
  const name = jobQueueName("Work");
  const completions: number[] = [];
  let first: number | undefined;
  let last = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const load = await jobQueueLoad(transport, "ql", "Work");
    if (!load) throw new Error("the queue's stream is gone");
    t.is(load.ackPending, 0, "nobody pulls");
    first ??= load.lastSeq;
    last = load.lastSeq;
    completions.push(rates.sample(name, load, performance.now()).completionPerSecond);
  }
  publishing = false;
  await Promise.all(publishers);
  t.true(last - (first ?? last) >= SAMPLES, `jobs arrived while sampling (${last - (first ?? last)})`);
  t.deepEqual(
    completions.filter((c) => c > 0),
    [],
    `completions seen with nothing running: ${completions.map((c) => c.toFixed(0)).join(",")}`,
  );
});
