/**
 * Cold activation of a stateful actor: the first call to an id the host has never activated, whose
 * state already sits in the KV bucket (written before the run). Troupe creates the activation,
 * loads the state (KV get), runs the turn and replies. The raw baseline does the same I/O:
 * a request to a responder that does a KV get of the key and replies with the value.
 *
 * One call at a time; every call uses a fresh id.
 */
import { Kvm } from "@nats-io/kv";
import { pack, unpack } from "msgpackr";
import { Subjects } from "../../runtime/messaging/subjects.js";
import { Cold } from "../lib/actors.js";
import type { CommandTable } from "../lib/ipc.js";
import { measureLoop } from "../lib/loop-side.js";
import { muxRequester } from "../lib/raw.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { closedLoop, forEachConcurrent, type LoopResult } from "../lib/stats.js";
import { env, mesh, rawConnection } from "../lib/worker-env.js";

const RAW_SUBJECT = "bench.cold.raw";
const RAW_BUCKET = "bench_raw_cold";
/** The stored state every cold actor finds (and returns, which checks that it was loaded). */
const STORED_COUNT = 41;

const ROW: RowSpec = {
  id: "cold-activation",
  title: "cold activation with state (c=1)",
  target: { text: "p50 ≤ 1 ms", metric: "p50Ms", limit: 1, direction: "max" },
};

interface CallArgs {
  impl: "troupe" | "raw";
  /** First prefilled id index this round uses. */
  offset: number;
  warmup: number;
  max: number;
  durationMs: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const { coldWarmup, coldMax, durationMs } = ctx.settings;
  await ctx.withWorkers({ host: {}, responder: {}, caller: {} }, async (w) => {
    const caller = workerOf(w, "caller");
    const host = workerOf(w, "host");
    const responder = workerOf(w, "responder");
    await Promise.all([host.call("host", { types: ["Cold"] }), responder.call("cold.serve")]);
    const perRound = coldWarmup + coldMax;
    const impls = (
      [
        ["troupe", "Troupe (activate + KV get + turn)"],
        ["raw", "raw mux + kv.get (baseline)"],
      ] as const
    ).filter(([impl]) => ctx.wantsImpl(impl));
    for (const [impl] of impls) {
      await caller.call("cold.prefill", { impl, count: perRound * ctx.settings.rounds });
    }
    const runners: SideRunner[] = impls.map(([impl, label]) => ({
      run: async (round): Promise<Side> => {
        ctx.log(`${ROW.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
        const args: CallArgs = {
          impl,
          offset: round * perRound,
          warmup: coldWarmup,
          max: coldMax,
          durationMs,
        };
        const { measures } = await measureLoop(
          { client: caller, server: impl === "troupe" ? host : responder },
          ctx.natsPid,
          () => caller.call<LoopResult>("cold.call", args),
        );
        return {
          label,
          impl,
          ...(impl === "raw" ? { baseline: true } : {}),
          ...measures,
          note: "a fresh id per call",
        };
      },
    }));
    const sides = await interleavedRounds(runners, ctx.settings.rounds);
    ctx.record(finishRow(ROW, sides));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

async function serve(): Promise<void> {
  const nc = await rawConnection("fast");
  const kv = await new Kvm(nc).create(RAW_BUCKET, { history: 1, replicas: 1 });
  nc.subscribe(RAW_SUBJECT, {
    queue: "q",
    callback: (_err, msg) => {
      const id = unpack(msg.data) as string;
      kv.get(id).then(
        (e) => {
          const state = e?.operation === "PUT" ? (unpack(e.value) as { count: number }) : { count: 0 };
          msg.respond(pack(state.count));
        },
        (err: unknown) => process.stderr.write(`raw cold get failed: ${String(err)}\n`),
      );
    },
  });
  await nc.flush();
}

function bucketFor(impl: "troupe" | "raw"): string {
  return impl === "troupe" ? new Subjects(env().prefix).stateBucket("Cold") : RAW_BUCKET;
}

/** Writes the state of every id the run will use (the Troupe bucket exists once the host serves Cold). */
async function prefill(a: { impl: "troupe" | "raw"; count: number }): Promise<void> {
  const kv = await new Kvm(await rawConnection("fast")).open(bucketFor(a.impl));
  const bytes = pack({ count: STORED_COUNT });
  const ids = Array.from({ length: a.count }, (_, i) => idOf(`cold${a.impl[0]}`, i));
  await forEachConcurrent(ids, 64, (id) => kv.put(id, bytes));
}

async function call(a: CallArgs): Promise<LoopResult> {
  let next = a.offset;
  const total = a.offset + a.warmup + a.max;
  const nextId = () => {
    if (next >= total) throw new Error("ran out of prefilled ids");
    return idOf(`cold${a.impl[0]}`, next++);
  };
  const check = (v: unknown) => {
    if (v !== STORED_COUNT) throw new Error(`cold actor returned ${String(v)}, not its stored state`);
  };
  let op: () => Promise<void>;
  if (a.impl === "troupe") {
    const m = await mesh();
    op = async () => check(await m.ref(Cold, nextId()).get());
  } else {
    const r = muxRequester(await rawConnection("fast"));
    op = async () => check(unpack(await r.request(RAW_SUBJECT, pack(nextId()))));
  }
  await closedLoop({ concurrency: 1, warmupMs: 0, durationMs: 60_000, maxOps: a.warmup }, op);
  const r = await closedLoop({ concurrency: 1, warmupMs: 0, durationMs: a.durationMs, maxOps: a.max }, op);
  return { ...r, totalOps: r.totalOps + a.warmup };
}

export const coldActivation: Scenario = {
  name: "cold",
  rows: [ROW],
  run,
  commands: { "cold.serve": serve, "cold.prefill": prefill, "cold.call": call } as CommandTable,
};
