/**
 * Request-reply at concurrency 1 and 64.
 *
 * - Echo (no state): Troupe actor call vs (a) raw publish + one multiplexed reply subscription
 *   (the baseline: the fastest raw pattern) and (b) raw `nc.request()` with nats.js defaults.
 *   Both raw responders decode the request and encode the reply, like the actor host does.
 * - Counter (stateful): every call changes the state, so every Troupe turn saves it with a KV
 *   compare-and-set before replying. The raw baseline does the same work: a responder keeps the
 *   count per id, `kv.update()`s it on the revision it read, then replies.
 *
 * At concurrency 64 each in-flight caller talks to its own actor id (64 actors), at 1 to one.
 */
import { Kvm } from "@nats-io/kv";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { pack, unpack } from "msgpackr";
import { Counter, Echo } from "../lib/actors.js";
import type { CommandTable } from "../lib/ipc.js";
import { measureLoop } from "../lib/loop-side.js";
import { type Payload, payloadFor } from "../lib/payload.js";
import { muxRequester } from "../lib/raw.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { closedLoop, type LoopResult } from "../lib/stats.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const ECHO_SUBJECT = "bench.rr.echo";
const COUNTER_SUBJECT = "bench.rr.counter";
const RAW_COUNTER_BUCKET = "bench_raw_counter";

type Target = "echo" | "counter";
type Impl = "troupe" | "mux" | "request";

const C64 = { text: "ops ≥ 0.85× raw", metric: "opsRatio", limit: 0.85, direction: "min" } as const;
const C1 = { text: "p50 ≤ 1.15× raw", metric: "p50Ratio", limit: 1.15, direction: "max" } as const;

const ROWS: Record<string, RowSpec> = {
  "echo.1": { id: "rr.echo.c1", title: "request-reply c=1, Echo (no state)", target: C1 },
  "echo.64": { id: "rr.echo.c64", title: "request-reply c=64, Echo (no state)", target: C64 },
  "counter.1": { id: "rr.counter.c1", title: "request-reply c=1, Counter (KV save per call)", target: C1 },
  "counter.64": {
    id: "rr.counter.c64",
    title: "request-reply c=64, Counter (KV save per call)",
    target: C64,
  },
};

interface CallArgs {
  impl: Impl;
  target: Target;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  idPrefix: string;
  /** Paced at this rate instead of a closed loop (`--rate`). */
  ratePerSec?: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const { warmupMs, durationMs } = ctx.settings;
  // One caller process per implementation: a side's garbage, timers and JIT state (nc.request()
  // builds two Errors per call) must not be paid for by another side measured in the same process.
  const callers = { callerTroupe: {}, callerMux: {}, callerRequest: {} };
  await ctx.withWorkers({ host: {}, responder: {}, ...callers }, async (w) => {
    const callerOf = (impl: Impl) =>
      workerOf(w, impl === "troupe" ? "callerTroupe" : impl === "mux" ? "callerMux" : "callerRequest");
    const host = workerOf(w, "host");
    const responder = workerOf(w, "responder");
    await Promise.all([host.call("host", { types: ["Echo", "Counter"] }), responder.call("rr.serve")]);
    for (const target of ["echo", "counter"] as const) {
      for (const concurrency of [1, 64]) {
        const spec = ROWS[`${target}.${concurrency}`] as RowSpec;
        if (!ctx.wants(spec.id)) continue;
        const impls: [Impl, string, boolean][] =
          target === "echo"
            ? [
                ["troupe", "Troupe", false],
                ["mux", "raw mux (baseline)", true],
                ["request", "raw nc.request()", false],
              ]
            : [
                ["troupe", "Troupe", false],
                ["mux", "raw mux + kv.update (baseline)", true],
              ];
        const runners: SideRunner[] = impls
          .filter(([impl]) => ctx.wantsImpl(impl === "troupe" ? "troupe" : "raw"))
          .map(([impl, label, baseline]) => ({
            run: async (round): Promise<Side> => {
              ctx.log(`${spec.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
              const args: CallArgs = {
                impl,
                target,
                concurrency,
                warmupMs,
                durationMs,
                ratePerSec: ctx.settings.ratePerSec,
                idPrefix: `${target}${concurrency}${impl[0]}`,
              };
              const { measures } = await measureLoop(
                { client: callerOf(impl), server: impl === "troupe" ? host : responder },
                ctx.natsPid,
                () => callerOf(impl).call<LoopResult>("rr.call", args),
              );
              return {
                label,
                impl: impl === "troupe" ? "troupe" : "raw",
                ...(baseline ? { baseline } : {}),
                ...measures,
              };
            },
          }));
        const sides = await interleavedRounds(runners, ctx.settings.rounds);
        ctx.record(finishRow(spec, sides));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

/** Raw responders: echo (decode + encode) and a KV-backed counter. */
async function serve(): Promise<void> {
  const nc = await rawConnection("fast");
  nc.subscribe(ECHO_SUBJECT, {
    queue: "q",
    callback: (_err, msg) => {
      msg.respond(pack(unpack(msg.data)));
    },
  });
  const kv = await new Kvm(nc).create(RAW_COUNTER_BUCKET, { history: 1, replicas: 1 });
  const counts = new Map<string, { count: number; revision: number }>();
  const onCounter = async (msg: Msg) => {
    const p = unpack(msg.data) as Payload;
    let s = counts.get(p.id);
    if (!s) {
      const e = await kv.get(p.id);
      s =
        e?.operation === "PUT"
          ? { count: (unpack(e.value) as { count: number }).count, revision: e.revision }
          : { count: 0, revision: 0 };
      counts.set(p.id, s);
    }
    s.count += p.qty;
    const bytes = pack({ count: s.count });
    s.revision = s.revision === 0 ? await kv.create(p.id, bytes) : await kv.update(p.id, bytes, s.revision);
    msg.respond(pack(s.count));
  };
  nc.subscribe(COUNTER_SUBJECT, {
    queue: "q",
    callback: (_err, msg) => {
      onCounter(msg).catch((err: unknown) => {
        process.stderr.write(`raw counter failed: ${String(err)}\n`);
      });
    },
  });
  await nc.flush();
}

async function call(a: CallArgs): Promise<LoopResult> {
  const ids = Array.from({ length: a.concurrency }, (_, i) => idOf(a.idPrefix, i));
  const payloads = ids.map(payloadFor);
  if (a.impl === "troupe") {
    const m = await mesh();
    if (a.target === "echo") {
      const refs = ids.map((id) => m.ref(Echo, id));
      return closedLoop(a, (w) => (refs[w] as (typeof refs)[0]).echo(payloads[w] as Payload));
    }
    const refs = ids.map((id) => m.ref(Counter, id));
    return closedLoop(a, (w) => (refs[w] as (typeof refs)[0]).add(payloads[w] as Payload));
  }
  const subject = a.target === "echo" ? ECHO_SUBJECT : COUNTER_SUBJECT;
  if (a.impl === "mux") {
    const r = muxRequester(await rawConnection("fast"));
    return closedLoop(a, async (w) => unpack(await r.request(subject, pack(payloads[w]))));
  }
  const nc: NatsConnection = await rawConnection("default");
  return closedLoop(a, async (w) =>
    unpack((await nc.request(subject, pack(payloads[w]), { timeout: 10_000 })).data),
  );
}

export const requestReply: Scenario = {
  name: "rr",
  rows: Object.values(ROWS),
  run,
  commands: { "rr.serve": serve, "rr.call": call } as CommandTable,
};
