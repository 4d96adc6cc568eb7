/**
 * Durable jobs end to end: a producer process enqueues, a host process runs them. Two rows:
 *
 * - `jobs`: Troupe `mesh.enqueue(JobWorker, id, { keepResult: false }).work(payload)` (resolves on
 *   the PubAck), on a host running the type's job runner with capacity {@link CAPACITY};
 *   `JobWorker.work` does nothing but count. The runner calls the actor (in-process: the host holds
 *   it) and acks. Raw: `js.publish()` to a work-queue stream (PubAck awaited), and in another
 *   process a durable pull consumer `consume({ max_messages: CAPACITY })` that decodes each job and
 *   `ack()`s it.
 * - `jobs.result`: the same with Troupe's default `keepResult: true`: before the ack the runner
 *   stores the job's outcome in the results stream (a JetStream publish, PubAck awaited) for
 *   `job.result()`. Raw does the same extra work: it publishes a packed result to a results stream
 *   (last message per subject, like Troupe's) and acks once the PubAck came.
 *
 * Both producers publish in batches of {@link BATCH} and await the batch's PubAcks; at most
 * `jobsWindow` jobs are enqueued and not yet run (flow control, bench/lib/flow.ts), so neither side
 * builds a backlog. Throughput = jobs completed per second, counted where they run.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { pack, unpack } from "msgpackr";
import { JobWorker } from "../lib/actors.js";
import { Completions, type ReceiveResult, type SendResult, sendWindowed } from "../lib/flow.js";
import { flowSide } from "../lib/flow-side.js";
import type { CommandTable } from "../lib/ipc.js";
import { type Payload, payloadFor } from "../lib/payload.js";
import { finishRow, type RowSpec } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const RAW_STREAM = "BENCH_RAW_JOBS";
const RAW_SUBJECT = "bench.rawjobs.work";
const RAW_RESULTS_STREAM = "BENCH_RAW_RESULTS";
const RAW_RESULTS_SUBJECT = "bench.rawresults";
const ACK_SUBJECT = "bench.jobs.ack";
/** Jobs a runner / raw consumer holds at once, and PubAcks a producer awaits together. */
const CAPACITY = 256;
const BATCH = 256;
const IDS = 64;

type Variant = "plain" | "result";

const ROWS: Record<Variant, RowSpec> = {
  plain: {
    id: "jobs",
    title: "durable job end to end (enqueue → run → ack)",
    target: { text: "ops ≥ 0.70× raw", metric: "opsRatio", limit: 0.7, direction: "min" },
  },
  result: {
    id: "jobs.result",
    title: "durable job, result kept (enqueue → run → store result → ack)",
  },
};

type Impl = "troupe" | "raw";

async function run(ctx: BenchContext): Promise<void> {
  for (const variant of ["plain", "result"] as const) {
    if (ctx.wants(ROWS[variant].id)) await runVariant(ctx, variant);
  }
}

async function runVariant(ctx: BenchContext, variant: Variant): Promise<void> {
  const row = ROWS[variant];
  const { flowWindow } = ctx.settings;
  await ctx.withWorkers({ host: {}, consumer: {}, producer: {} }, async (w) => {
    const host = workerOf(w, "host");
    const consumer = workerOf(w, "consumer");
    const producer = workerOf(w, "producer");
    await Promise.all([host.call("jobs.hostTroupe"), consumer.call("jobs.serveRaw", { variant })]);
    let phase = 0;
    const measure = async (impl: Impl, ms: number) => {
      const receiver = impl === "troupe" ? host : consumer;
      phase++;
      await receiver.call("jobs.reset", { phase });
      const s = await producer.call<SendResult>("jobs.send", {
        impl,
        variant,
        durationMs: ms,
        window: flowWindow,
        phase,
      });
      const r = await receiver.call<ReceiveResult>("jobs.wait", { expected: s.sent });
      if (r.received < s.sent) throw new Error(`${impl}: ${r.received} of ${s.sent} jobs ran`);
      return { s, r };
    };
    const labels: Record<Variant, Record<Impl, string>> = {
      plain: {
        troupe: "Troupe enqueue (keepResult: false) → job runner",
        raw: "raw js.publish → pull consume + ack (baseline)",
      },
      result: {
        troupe: "Troupe enqueue → job runner, result stored",
        raw: "raw js.publish → pull consume, publish result, ack (baseline)",
      },
    };
    const runners: SideRunner[] = (["troupe", "raw"] as const)
      .filter((impl) => ctx.wantsImpl(impl))
      .map((impl) =>
        flowSide(ctx, {
          rowId: row.id,
          label: labels[variant][impl],
          impl,
          client: producer,
          server: impl === "troupe" ? host : consumer,
          measure: (ms) => measure(impl, ms),
          note: (_s, r) => `${r.received.toLocaleString("en-US")} jobs, all run`,
        }),
      );
    const sides = await interleavedRounds(runners, ctx.settings.rounds);
    ctx.record(finishRow(row, sides));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side: running jobs

const done = new Completions(ACK_SUBJECT);

async function hostTroupe(): Promise<void> {
  await done.open();
  JobWorker.onDone = () => done.hit();
  await (await mesh()).host([JobWorker], {
    jobs: { capacity: CAPACITY },
    subscriptions: false,
    reminders: false,
  });
}

async function serveRaw(a: { variant: Variant }): Promise<void> {
  await done.open();
  const nc = await rawConnection("fast");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: RAW_STREAM,
    subjects: [RAW_SUBJECT],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  });
  await jsm.consumers.add(RAW_STREAM, {
    durable_name: "worker",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
  });
  const js = jetstream(nc);
  const c = await js.consumers.get(RAW_STREAM, "worker");
  const messages = await c.consume({ max_messages: CAPACITY });
  if (a.variant === "plain") {
    void (async () => {
      for await (const m of messages) {
        unpack(m.data);
        done.hit();
        m.ack();
      }
    })();
    return;
  }
  // Like Troupe's results stream: the last outcome per job, kept a day, direct gets allowed.
  await jsm.streams.add({
    name: RAW_RESULTS_STREAM,
    subjects: [`${RAW_RESULTS_SUBJECT}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: nanos(24 * 3600_000),
    allow_direct: true,
  });
  let n = 0;
  void (async () => {
    for await (const m of messages) {
      unpack(m.data);
      done.hit();
      // Each job's result is stored (PubAck awaited) before its ack; jobs run concurrently.
      js.publish(`${RAW_RESULTS_SUBJECT}.${++n}`, pack([1, 0, null, 1, Date.now()])).then(
        () => m.ack(),
        (err: unknown) => {
          console.error("raw result publish failed", err);
          m.nak();
        },
      );
    }
  })();
}

// ---------------------------------------------------------------------------------------------
// Worker side: producing

async function send(a: {
  impl: Impl;
  variant: Variant;
  durationMs: number;
  window: number;
  phase: number;
}): Promise<SendResult> {
  const payloads = Array.from({ length: IDS }, (_, i) => payloadFor(idOf("job", i)));
  let sendOne: (i: number) => Promise<unknown>;
  if (a.impl === "troupe") {
    const m = await mesh();
    const options = { keepResult: a.variant === "result" };
    const refs = payloads.map((p) => m.enqueue(JobWorker, p.id, options));
    sendOne = (i) => (refs[i % IDS] as (typeof refs)[0]).work(payloads[i % IDS] as Payload);
  } else {
    const js = jetstream(await rawConnection("fast"));
    sendOne = (i) => js.publish(RAW_SUBJECT, pack(payloads[i % IDS]));
  }
  return sendWindowed({
    durationMs: a.durationMs,
    window: a.window,
    batch: BATCH,
    phase: a.phase,
    ackSubject: ACK_SUBJECT,
    sendBatch: (from, n) => {
      const all: Promise<unknown>[] = [];
      for (let k = 0; k < n; k++) all.push(sendOne(from + k));
      return Promise.all(all);
    },
  });
}

export const jobs: Scenario = {
  name: "jobs",
  rows: [ROWS.plain, ROWS.result],
  run,
  commands: {
    "jobs.hostTroupe": hostTroupe,
    "jobs.serveRaw": serveRaw,
    "jobs.reset": (a: { phase: number }) => done.reset(a.phase),
    "jobs.wait": (a: { expected: number }) => done.wait(a.expected),
    "jobs.send": send,
  } as CommandTable,
};
