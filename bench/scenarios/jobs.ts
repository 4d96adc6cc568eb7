/**
 * Durable jobs end to end: a producer process enqueues, a host process runs them.
 *
 * - Troupe: `mesh.enqueue(JobWorker, id).work(payload)` (resolves on the PubAck), on a host running
 *   the type's job runner with capacity {@link CAPACITY}; `JobWorker.work` does nothing but count.
 *   Per job the runner also calls the actor (a request through nats-server, even on the same
 *   host), stores the job's result in the results stream (a second JetStream publish) and acks
 *   with a double ack (`ackAck`, another round trip): what makes a Troupe job durable and its
 *   result readable by `job.result()`.
 * - raw: `js.publish()` to a work-queue stream (PubAck awaited), and in another process a durable
 *   pull consumer `consume({ max_messages: CAPACITY })` that decodes each job and `ack()`s it.
 *
 * Both producers publish in batches of {@link BATCH} and await the batch's PubAcks; at most
 * `jobsWindow` jobs are enqueued and not yet run (flow control, bench/lib/flow.ts), so neither side
 * builds a backlog. Throughput = jobs completed per second, counted where they run.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { pack, unpack } from "msgpackr";
import { JobWorker } from "../lib/actors.js";
import { measureCpu } from "../lib/cpu.js";
import { Completions, type ReceiveResult, type SendResult, sendWindowed } from "../lib/flow.js";
import type { CommandTable } from "../lib/ipc.js";
import { type Payload, payloadFor } from "../lib/payload.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const RAW_STREAM = "BENCH_RAW_JOBS";
const RAW_SUBJECT = "bench.rawjobs.work";
const ACK_SUBJECT = "bench.jobs.ack";
/** Jobs a runner / raw consumer holds at once, and PubAcks a producer awaits together. */
const CAPACITY = 256;
const BATCH = 256;
const IDS = 64;

const ROW: RowSpec = {
  id: "jobs",
  title: "durable job end to end (enqueue → run → ack)",
  target: { text: "ops ≥ 0.70× raw", metric: "opsRatio", limit: 0.7, direction: "min" },
};

type Impl = "troupe" | "raw";

async function run(ctx: BenchContext): Promise<void> {
  const { warmupMs, durationMs, flowWindow } = ctx.settings;
  await ctx.withWorkers({ host: {}, consumer: {}, producer: {} }, async (w) => {
    const host = workerOf(w, "host");
    const consumer = workerOf(w, "consumer");
    const producer = workerOf(w, "producer");
    await Promise.all([host.call("jobs.hostTroupe"), consumer.call("jobs.serveRaw")]);
    let phase = 0;
    const measure = async (impl: Impl, ms: number) => {
      const receiver = impl === "troupe" ? host : consumer;
      phase++;
      await receiver.call("jobs.reset", { phase });
      const s = await producer.call<SendResult>("jobs.send", {
        impl,
        durationMs: ms,
        window: flowWindow,
        phase,
      });
      const r = await receiver.call<ReceiveResult>("jobs.wait", { expected: s.sent });
      if (r.received < s.sent) throw new Error(`${impl}: ${r.received} of ${s.sent} jobs ran`);
      return { s, r };
    };
    const runners: SideRunner[] = (
      [
        ["troupe", "Troupe enqueue → job runner"],
        ["raw", "raw js.publish → pull consume + ack (baseline)"],
      ] as const
    )
      .filter(([impl]) => ctx.wantsImpl(impl))
      .map(([impl, label]) => ({
        run: async (round): Promise<Side> => {
          ctx.log(`${ROW.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
          await measure(impl, warmupMs);
          const {
            result: { r },
            cpuUsPerOp,
            writesPerOp,
          } = await measureCpu(
            { client: producer, server: impl === "troupe" ? host : consumer },
            ctx.natsPid,
            () => measure(impl, durationMs),
            (res) => res.r.received,
          );
          return {
            label,
            impl,
            ...(impl === "raw" ? { baseline: true } : {}),
            opsPerSec: r.spanMs > 0 ? (r.received / r.spanMs) * 1000 : 0,
            count: r.received,
            cpuUsPerOp,
            writesPerOp,
            note: `${r.received.toLocaleString("en-US")} jobs, all run`,
          };
        },
      }));
    const sides = await interleavedRounds(runners, ctx.settings.rounds);
    ctx.record(finishRow(ROW, sides));
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

async function serveRaw(): Promise<void> {
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
  const c = await jetstream(nc).consumers.get(RAW_STREAM, "worker");
  const messages = await c.consume({ max_messages: CAPACITY });
  void (async () => {
    for await (const m of messages) {
      unpack(m.data);
      done.hit();
      m.ack();
    }
  })();
}

// ---------------------------------------------------------------------------------------------
// Worker side: producing

async function send(a: {
  impl: Impl;
  durationMs: number;
  window: number;
  phase: number;
}): Promise<SendResult> {
  const payloads = Array.from({ length: IDS }, (_, i) => payloadFor(idOf("job", i)));
  let sendOne: (i: number) => Promise<unknown>;
  if (a.impl === "troupe") {
    const m = await mesh();
    const refs = payloads.map((p) => m.enqueue(JobWorker, p.id));
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
  rows: [ROW],
  run,
  commands: {
    "jobs.hostTroupe": hostTroupe,
    "jobs.serveRaw": serveRaw,
    "jobs.reset": (a: { phase: number }) => done.reset(a.phase),
    "jobs.wait": (a: { expected: number }) => done.wait(a.expected),
    "jobs.send": send,
  } as CommandTable,
};
