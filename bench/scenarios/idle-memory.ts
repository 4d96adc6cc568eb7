/**
 * Memory per idle activated actor. A caller process activates N `Idle` actors (stateless, empty)
 * on a host process started with `--expose-gc`; the host forces GC before and after and reports
 * (heapUsed after - heapUsed before) / N. N is as many as fit, up to `memActors` (1,000,000 in full
 * mode): actors are activated in steps of `memStep`, and the run stops early once the host's heap is
 * {@link HEAP_FULL} of its limit (the hosts run with `--max-old-space-size` raised). Everything an activation keeps alive counts: the
 * catalog's map entry, the id string, the Activation, its mailbox, context and actor instance.
 *
 * Raw reference: a responder that remembers every id it has seen in a `Map<string, { id, lastActive }>`,
 * the least bookkeeping a hand-written per-entity service would keep.
 */
import { pack, unpack } from "msgpackr";
import { Idle } from "../lib/actors.js";
import type { CommandTable } from "../lib/ipc.js";
import { muxRequester } from "../lib/raw.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { forEachConcurrent } from "../lib/stats.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const RAW_SUBJECT = "bench.mem.raw";
const TRUE = pack(true);

const ROW: RowSpec = {
  id: "idle-memory",
  title: "memory per idle activated actor",
  target: { text: "≤ 400 B/actor", metric: "bytesPerActor", limit: 400, direction: "max" },
};

export interface HeapReading {
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** V8's heap size limit (`--max-old-space-size` and young space). */
  heapLimit: number;
}

/** Heap the host processes may grow to: room for 1,000,000 actors under tsx. */
const MAX_OLD_SPACE_MB = 4096;
/** Stop adding actors once the heap is this full (of V8's limit): "as many as fit". */
const HEAP_FULL = 0.7;

async function run(ctx: BenchContext): Promise<void> {
  const { memWarm, memActors, memStep } = ctx.settings;
  const gc = { nodeArgs: ["--expose-gc", `--max-old-space-size=${MAX_OLD_SPACE_MB}`] };
  await ctx.withWorkers({ host: gc, responder: gc, caller: {} }, async (w) => {
    const host = workerOf(w, "host");
    const responder = workerOf(w, "responder");
    const caller = workerOf(w, "caller");
    await Promise.all([host.call("host", { types: ["Idle"] }), responder.call("mem.serve")]);
    const sides: Side[] = [];
    for (const [impl, label, proc] of [
      ["troupe", "Troupe activations", host],
      ["raw", "raw Map<id, {id, lastActive}>", responder],
    ] as const) {
      if (!ctx.wantsImpl(impl)) continue;
      ctx.log(`${ROW.id}: ${label} (up to ${memActors.toLocaleString("en-US")} actors)`);
      await caller.call("mem.activate", { impl, idPrefix: "warm", from: 0, count: memWarm });
      const before = await proc.call<HeapReading>("heap");
      // As many as fit, up to memActors: activate in steps, stop when the heap is getting full.
      let activated = 0;
      let activateMs = 0;
      let after = before;
      let full = false;
      while (activated < memActors) {
        const n = Math.min(memStep, memActors - activated);
        const started = performance.now();
        await caller.call("mem.activate", { impl, idPrefix: "idle", from: activated, count: n });
        activateMs += performance.now() - started;
        activated += n;
        after = await proc.call<HeapReading>("heap");
        if (after.heapUsed > HEAP_FULL * after.heapLimit) {
          full = activated < memActors;
          break;
        }
      }
      if (impl === "troupe") {
        const stats = await host.call<Record<string, { activations: number }>>("hostStats");
        const live = stats.Idle?.activations ?? 0;
        if (live !== memWarm + activated) {
          throw new Error(`host holds ${live} Idle activations, expected ${memWarm + activated}`);
        }
      }
      const perActor = (after.heapUsed - before.heapUsed) / activated;
      sides.push({
        label,
        impl,
        ...(impl === "raw" ? { baseline: true } : {}),
        bytesPerActor: perActor,
        count: activated,
        note: `${activated.toLocaleString("en-US")} actors${full ? ` (stopped: heap ${Math.round(after.heapUsed / 2 ** 20)} MiB of ${Math.round(after.heapLimit / 2 ** 20)} MiB)` : ""}, activated at ${Math.round((activated / activateMs) * 1000).toLocaleString("en-US")}/s, rss +${Math.round((after.rss - before.rss) / activated)} B/actor`,
      });
    }
    ctx.record(finishRow(ROW, sides));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

async function serve(): Promise<void> {
  const nc = await rawConnection("fast");
  const seen = new Map<string, { id: string; lastActive: number }>();
  nc.subscribe(RAW_SUBJECT, {
    queue: "q",
    callback: (_err, msg) => {
      const id = unpack(msg.data) as string;
      const e = seen.get(id);
      if (e) e.lastActive = performance.now();
      else seen.set(id, { id, lastActive: performance.now() });
      msg.respond(TRUE);
    },
  });
  await nc.flush();
}

async function activate(a: {
  impl: "troupe" | "raw";
  idPrefix: string;
  from: number;
  count: number;
}): Promise<void> {
  const ids = Array.from({ length: a.count }, (_, i) => idOf(a.idPrefix, a.from + i));
  const check = (v: unknown) => {
    if (v !== true) throw new Error(`activation call returned ${String(v)}`);
  };
  if (a.impl === "troupe") {
    const m = await mesh();
    await forEachConcurrent(ids, 64, async (id) => check(await m.ref(Idle, id).touch()));
  } else {
    const r = muxRequester(await rawConnection("fast"));
    await forEachConcurrent(ids, 64, async (id) => check(unpack(await r.request(RAW_SUBJECT, pack(id)))));
  }
}

export const idleMemory: Scenario = {
  name: "mem",
  rows: [ROW],
  run,
  commands: { "mem.serve": serve, "mem.activate": activate } as CommandTable,
};
