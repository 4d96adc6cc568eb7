/**
 * CPU ns per hop of the telemetry hooks an unsampled Echo call runs, with Troupe's tracer and a
 * parent-based trace-id ratio sampler (docs/benchmarks.md, "Tracing as deployed"):
 *
 *   node --conditions=troupe-source --import tsx bench/unsampled-hooks.ts [ratio, default 0.01]
 *
 * - host turn: `startTurnSpan` for a message whose `traceparent` has the sampled flag off, the turn
 *   run in its context (`callInHop`), `endHopWith`;
 * - caller call under an unsampled parent: `startCallSpan` + `endHop` inside that context;
 * - caller call at a root: the same with no parent (the ratio sampler decides; mostly unsampled).
 */
import { context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { callInHop, endHop, endHopWith, startCallSpan, startTurnSpan } from "../runtime/telemetry/index.js";
import { startSdk } from "./lib/sdk-cost.js";

const ratio = Number(process.argv[2] ?? "0.01");
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const fields = new Map([["traceparent", `00-${TRACE_ID}-b7ad6b7169203331-00`]]);
const headers = {
  get: (k: string) => fields.get(k) ?? "",
  has: (k: string) => fields.has(k),
  keys: () => [...fields.keys()],
};
const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: TRACE_ID,
  spanId: "b7ad6b7169203331",
  traceFlags: TraceFlags.NONE,
  isRemote: true,
});
const ok = { ok: true } as const;
const turn = (x: number) => x + 1;
export let sink: unknown;

function host(n: number): void {
  for (let i = 0; i < n; i++) {
    const hop = startTurnSpan(headers, "call", "Echo", "echo", "plain-00000042", "bench.rpc.Echo.17");
    sink = callInHop(hop, turn, undefined, i);
    endHopWith(hop, ok);
  }
}

function caller(n: number): void {
  for (let i = 0; i < n; i++) {
    const hop = startCallSpan("Echo", "echo", "plain-00000042", "bench.rpc.Echo.17");
    sink = hop?.headers;
    endHop(hop);
  }
}

function time(name: string, loop: (n: number) => void): void {
  const n = 300_000;
  loop(n);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    loop(n);
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / n);
  }
  console.log(`${name.padEnd(40)} ${best.toFixed(0).padStart(6)} ns per hop (best of 5 × ${n})`);
}

const sdk = await startSdk(false, "troupe", ratio);
console.log(`unsampled hooks, Troupe's tracer, parent-based ratio ${ratio}`);
time("host turn, unsampled traceparent", host);
context.with(unsampledParent, () => time("caller call, unsampled parent", caller));
time("caller call, root", caller);
await sdk.shutdown();
