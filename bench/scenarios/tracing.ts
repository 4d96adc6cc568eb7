/**
 * Tracing: what Troupe's OpenTelemetry support costs, on request-reply Echo at concurrency 64.
 *
 * - `tracing.sampled`: the same Troupe Echo c=64 closed loop twice, in two separate meshes (own
 *   prefixes, own caller and host processes): once with no SDK registered (the normal runtime),
 *   once with `startTelemetry()` in both the caller and the host, `OTEL_TRACES_SAMPLER=always_on`
 *   and the default batch span processor exporting OTLP/HTTP (protobuf) to a receiver process (a
 *   plain HTTP server that answers 200 and counts bytes). Every call then makes two spans (caller
 *   CLIENT, host SERVER) and carries a `traceparent` header. Ratio: traced / untraced throughput;
 *   the target "overhead ≤ 25%" is read as traced ≥ 0.80× untraced (25% more time per call).
 * - `tracing.ratio` / `tracing.ratio1`: a third and a fourth mesh like the traced one but with the
 *   sampler production setups use, `parentbased_traceidratio` at 10% and at 1%: every call still
 *   propagates its trace context (`traceparent`, sampled flag off for most), only one call in ten
 *   (a hundred) is recorded and exported. Issue 21's targets: ≥ 0.90× and ≥ 0.95× of no SDK.
 * - `tracing.als`: a fifth mesh with no tracer at all, only the OpenTelemetry AsyncLocalStorage
 *   context manager registered and one context entered (as any traced process has, once its first
 *   sampled span ran): Troupe's hooks stay idle, and what it measures is what Node 20's promise
 *   hooks for AsyncLocalStorage cost every promise of both processes. No target: it is the floor
 *   under the 10% and 1% rows, whatever Troupe's hops do.
 * - `tracing.header`: no Troupe at all: raw nats.js's multiplexed requester and a raw responder
 *   (as in `rr.echo.c64`) with a W3C `traceparent` (sampled flag off, a fresh span id per request
 *   from a pool made beforehand) on every request, read by the responder through nats.js's
 *   `msg.headers`, against the same pair without headers. What carrying the trace context over
 *   NATS costs by itself (HPUB instead of PUB, the block on the wire, nats.js's header code on both
 *   sides, nats-server's): the part of an unsampled call's cost that no tracing code can remove.
 * - `tracing.c1`: the same two meshes (100% sampled and no SDK) with one call in flight: what
 *   tracing adds to a call's latency when the machine is not saturated. No issue-7 target (its
 *   tracing target is read at c=64, where throughput is CPU-bound); it shows the other half of the
 *   picture, for the many services that do not run their hosts at full CPU.
 * - `tracing.off`: the hooks are always compiled in, so "off" cannot be compared with a runtime
 *   without them in the same run. It is measured in-process instead: the telemetry hooks one Echo
 *   call goes through with no SDK registered (caller: `startCallSpan`, `metricsEnabled`; host:
 *   `startTurnSpan`, `callInHop`, `endHopWith`), timed in a tight loop (CPU ns per call), against
 *   the CPU one untraced Troupe call costs its caller and host processes (µs per call from the
 *   `tracing.sampled` untraced side of the same run, nats-server excluded). Target ≤ 3%.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { headers, type MsgHdrs } from "@nats-io/nats-core";
import { context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { pack, unpack } from "msgpackr";
import {
  callInHop,
  endHop,
  endHopWith,
  metricsEnabled,
  startCallSpan,
  startTurnSpan,
} from "../../runtime/telemetry/index.js";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";
import type { CommandTable, WorkerProc } from "../lib/ipc.js";
import { measureLoop } from "../lib/loop-side.js";
import { payloadFor } from "../lib/payload.js";
import { muxRequester } from "../lib/raw.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { closedLoop, type LoopResult } from "../lib/stats.js";
import { rawConnection } from "../lib/worker-env.js";

const CONCURRENCY = 64;

const OFF: RowSpec = {
  id: "tracing.off",
  title: "tracing off: telemetry hooks per Echo call, no SDK",
  target: { text: "≤ 3% of Troupe's CPU per call", metric: "overheadPct", limit: 3, direction: "max" },
};
const RATIO: RowSpec = {
  id: "tracing.ratio",
  title: "tracing 10% sampled (parent-based ratio), batch OTLP export (Echo c=64)",
  target: { text: "ops ≥ 0.90× no SDK", metric: "opsRatio", limit: 0.9, direction: "min" },
};
const RATIO1: RowSpec = {
  id: "tracing.ratio1",
  title: "tracing 1% sampled (parent-based ratio), batch OTLP export (Echo c=64)",
  target: { text: "ops ≥ 0.95× no SDK", metric: "opsRatio", limit: 0.95, direction: "min" },
};
const ALS: RowSpec = {
  id: "tracing.als",
  title: "no tracer, AsyncLocalStorage context manager on (Echo c=64): the floor under sampling",
};
const HEADER: RowSpec = {
  id: "tracing.header",
  title: "raw nats.js with a traceparent header on every request (Echo c=64): the wire's share",
};
const LATENCY: RowSpec = {
  id: "tracing.c1",
  title: "tracing 100% sampled, batch OTLP export (Echo c=1, latency)",
};
const SAMPLED: RowSpec = {
  id: "tracing.sampled",
  title: "tracing 100% sampled, batch OTLP export (Echo c=64)",
  target: { text: "overhead ≤ 25% (ops ≥ 0.80× no SDK)", metric: "opsRatio", limit: 0.8, direction: "min" },
};

interface ReceiverStats {
  requests: number;
  bytes: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const { warmupMs, durationMs } = ctx.settings;
  const workers = {
    receiver: {},
    hostOff: {},
    callerOff: {},
    hostOn: {},
    callerOn: {},
    hostRatio: {},
    callerRatio: {},
    hostRatio1: {},
    callerRatio1: {},
    hostAls: {},
    callerAls: {},
    responderRaw: {},
    callerRaw: {},
    callerRawHeader: {},
  };
  await ctx.withWorkers(workers, async (w) => {
    const receiver = workerOf(w, "receiver");
    const hostOff = workerOf(w, "hostOff");
    const callerOff = workerOf(w, "callerOff");
    const hostOn = workerOf(w, "hostOn");
    const callerOn = workerOf(w, "callerOn");
    const hostRatio = workerOf(w, "hostRatio");
    const callerRatio = workerOf(w, "callerRatio");
    const hostRatio1 = workerOf(w, "hostRatio1");
    const callerRatio1 = workerOf(w, "callerRatio1");
    const hostAls = workerOf(w, "hostAls");
    const callerAls = workerOf(w, "callerAls");
    // Each traced pair is a mesh of its own: the Echo hosts must not share shards.
    await Promise.all([hostOn, callerOn].map((p) => p.call("init", { url: ctx.url, prefix: "tracingon" })));
    await Promise.all(
      [hostRatio, callerRatio].map((p) => p.call("init", { url: ctx.url, prefix: "tracingratio" })),
    );
    await Promise.all(
      [hostRatio1, callerRatio1].map((p) => p.call("init", { url: ctx.url, prefix: "tracingratio1" })),
    );
    await Promise.all(
      [hostAls, callerAls].map((p) => p.call("init", { url: ctx.url, prefix: "tracingals" })),
    );
    const endpoint = await receiver.call<string>("tracing.receiver");
    const ratio = { endpoint, sampler: "parentbased_traceidratio", samplerArg: "0.1" };
    const ratio1 = { endpoint, sampler: "parentbased_traceidratio", samplerArg: "0.01" };
    await Promise.all([
      hostOn.call("tracing.start", { endpoint }),
      callerOn.call("tracing.start", { endpoint }),
      hostRatio.call("tracing.start", ratio),
      callerRatio.call("tracing.start", ratio),
      hostRatio1.call("tracing.start", ratio1),
      callerRatio1.call("tracing.start", ratio1),
      hostAls.call("tracing.contextOnly"),
      callerAls.call("tracing.contextOnly"),
    ]);
    await Promise.all(
      [hostOff, hostOn, hostRatio, hostRatio1, hostAls].map((h) => h.call("host", { types: ["Echo"] })),
    );

    type Mode = "off" | "all" | "ratio" | "ratio1" | "als";
    const side = (mode: Mode, concurrency = CONCURRENCY): SideRunner => {
      const traced = mode !== "off" && mode !== "als";
      const label =
        mode === "all"
          ? "Troupe, 100% sampled, batch OTLP/HTTP export"
          : mode === "ratio"
            ? "Troupe, 10% sampled (parent-based ratio), batch OTLP/HTTP export"
            : mode === "ratio1"
              ? "Troupe, 1% sampled (parent-based ratio), batch OTLP/HTTP export"
              : mode === "als"
                ? "Troupe, no tracer, AsyncLocalStorage context manager on"
                : "Troupe, no SDK (baseline)";
      const pick = <T>(all: T, r10: T, r1: T, als: T, off: T) =>
        mode === "all" ? all : mode === "ratio" ? r10 : mode === "ratio1" ? r1 : mode === "als" ? als : off;
      const caller = pick(callerOn, callerRatio, callerRatio1, callerAls, callerOff);
      const host = pick(hostOn, hostRatio, hostRatio1, hostAls, hostOff);
      const row = concurrency === 1 ? LATENCY : pick(SAMPLED, RATIO, RATIO1, ALS, SAMPLED);
      return {
        run: async (round): Promise<Side> => {
          ctx.log(`${row.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
          const before = await receiver.call<ReceiverStats>("tracing.receiverStats");
          const { measures, totalOps } = await measureLoop(
            { client: caller, server: host },
            ctx.natsPid,
            () =>
              caller.call<LoopResult>("rr.call", {
                impl: "troupe",
                target: "echo",
                concurrency,
                warmupMs,
                durationMs,
                idPrefix: mode === "off" ? "plain" : mode,
                ratePerSec: ctx.settings.ratePerSec,
              }),
          );
          let note: string | undefined;
          if (traced) {
            await Promise.all([caller.call("tracing.flush"), host.call("tracing.flush")]);
            const after = await receiver.call<ReceiverStats>("tracing.receiverStats");
            const bytes = after.bytes - before.bytes;
            note = `exported ${(bytes / 2 ** 20).toFixed(1)} MiB in ${after.requests - before.requests} OTLP requests, ${(bytes / totalOps).toFixed(0)} B per call`;
          }
          return {
            label,
            impl: "troupe",
            ...(mode === "off" ? { baseline: true } : {}),
            ...measures,
            ...(note ? { note } : {}),
          };
        },
      };
    };
    // Only the sides of the rows asked for (each row needs the no-SDK side).
    const wanted: Mode[] = [];
    if (ctx.wants(SAMPLED.id) || ctx.wants(OFF.id)) wanted.push("all");
    if (ctx.wants(RATIO.id)) wanted.push("ratio");
    if (ctx.wants(RATIO1.id)) wanted.push("ratio1");
    if (ctx.wants(ALS.id)) wanted.push("als");
    wanted.push("off");
    const measured = await interleavedRounds(
      wanted.map((m) => side(m)),
      ctx.settings.rounds,
    );
    const sideOf = (m: Mode) => measured[wanted.indexOf(m)];
    const plain = sideOf("off");
    if (!plain) throw new Error("tracing: the no-SDK side is missing");
    for (const [mode, row] of [
      ["all", SAMPLED],
      ["ratio", RATIO],
      ["ratio1", RATIO1],
      ["als", ALS],
    ] as const) {
      const traced = wanted.includes(mode) ? sideOf(mode) : undefined;
      if (traced && ctx.wants(row.id)) ctx.record(finishRow(row, [traced, { ...plain }]));
    }

    if (ctx.wants(HEADER.id)) await rawHeaderRow(ctx, w);

    if (ctx.wants(LATENCY.id)) {
      const [tracedC1, plainC1] = await interleavedRounds(
        [side("all", 1), side("off", 1)],
        ctx.settings.rounds,
      );
      if (!tracedC1 || !plainC1) throw new Error("tracing: a c=1 side is missing");
      ctx.record(finishRow(LATENCY, [tracedC1, plainC1]));
    }

    if (ctx.wants(OFF.id)) {
      ctx.log(`${OFF.id}: hooks in-process (${ctx.settings.hookIterations.toLocaleString("en-US")} calls)`);
      const hooks = await callerOff.call<{ nsPerCall: number; calls: number }>("tracing.hooks", {
        iterations: ctx.settings.hookIterations,
      });
      const cpu = plain.cpuUsPerOp ?? {};
      const troupeUs = (cpu.client ?? Number.NaN) + (cpu.server ?? Number.NaN);
      ctx.record(
        finishRow(OFF, [
          {
            label: "hooks of one call, no SDK (caller + host, in-process loop)",
            impl: "troupe",
            nsPerOp: hooks.nsPerCall,
            count: hooks.calls,
          },
          {
            label: "Troupe Echo c=64 CPU per call, caller + host (baseline)",
            impl: "troupe",
            baseline: true,
            nsPerOp: troupeUs * 1000,
            count: plain.count,
            note: `${troupeUs.toFixed(1)} µs, the no-SDK side of ${SAMPLED.id}`,
          },
        ]),
      );
    }
  });
}

/** `tracing.header`: raw mux with and without a `traceparent` on every request, each its own caller. */
async function rawHeaderRow(ctx: BenchContext, w: Record<string, WorkerProc>): Promise<void> {
  const responder = workerOf(w, "responderRaw");
  await responder.call("tracing.rawServe");
  const { warmupMs, durationMs } = ctx.settings;
  const side = (withHeader: boolean): SideRunner => {
    const caller = workerOf(w, withHeader ? "callerRawHeader" : "callerRaw");
    const label = withHeader ? "raw mux + traceparent header (unsampled)" : "raw mux, no headers (baseline)";
    return {
      run: async (round): Promise<Side> => {
        ctx.log(`${HEADER.id}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
        const { measures } = await measureLoop({ client: caller, server: responder }, ctx.natsPid, () =>
          caller.call<LoopResult>("tracing.rawCall", {
            withHeader,
            concurrency: CONCURRENCY,
            warmupMs,
            durationMs,
            ratePerSec: ctx.settings.ratePerSec,
          }),
        );
        return { label, impl: "raw", ...(withHeader ? {} : { baseline: true }), ...measures };
      },
    };
  };
  const [header, plain] = await interleavedRounds([side(true), side(false)], ctx.settings.rounds);
  if (!header || !plain) throw new Error("tracing: a raw header side is missing");
  // The header side must have carried its headers: the responder counts the traceparents it read.
  const seen = await responder.call<number>("tracing.rawSeen");
  if (seen < (header.count ?? 1)) throw new Error(`tracing: the raw responder read ${seen} traceparents`);
  ctx.record(finishRow(HEADER, [header, plain]));
}

// ---------------------------------------------------------------------------------------------
// Worker side

const RAW_ECHO_SUBJECT = "bench.tracing.echo";

/** The raw responder of `tracing.header`: reads the `traceparent` (as a propagating consumer must), echoes. */
async function rawServe(): Promise<void> {
  const nc = await rawConnection("fast");
  nc.subscribe(RAW_ECHO_SUBJECT, {
    queue: "q",
    callback: (_err, msg) => {
      if (msg.headers?.get("traceparent")) rawTraceparentsSeen++;
      msg.respond(pack(unpack(msg.data)));
    },
  });
  await nc.flush();
}

/** Requests with a `traceparent` the raw responder has read (the row checks its headers arrived). */
let rawTraceparentsSeen = 0;

/** The raw caller of `tracing.header`: Echo c=64 over the mux requester, a traceparent on each request or none. */
async function rawCall(a: {
  withHeader: boolean;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  ratePerSec?: number;
}): Promise<LoopResult> {
  const r = muxRequester(await rawConnection("fast"));
  const payloads = Array.from({ length: a.concurrency }, (_, i) => payloadFor(idOf("rawtrace", i)));
  // Trace contexts made beforehand: the row measures carrying one, not making it.
  const parents = Array.from(
    { length: 1024 },
    () => `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-00`,
  );
  let n = 0;
  return closedLoop(a, async (w) => {
    let h: MsgHdrs | undefined;
    if (a.withHeader) {
      h = headers();
      h.set("traceparent", parents[n++ & 1023] as string);
    }
    return unpack(await r.request(RAW_ECHO_SUBJECT, pack(payloads[w]), h));
  });
}

const received: ReceiverStats = { requests: 0, bytes: 0 };
let flushTelemetry: (() => Promise<void>) | undefined;

/** A throwaway OTLP/HTTP endpoint: reads each export, counts it, answers 200 with an empty body. */
async function receiver(): Promise<string> {
  const server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      received.bytes += chunk.length;
    });
    req.on("end", () => {
      received.requests++;
      res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function start(a: { endpoint: string; sampler?: string; samplerArg?: string }): Promise<void> {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = a.endpoint;
  process.env.OTEL_TRACES_EXPORTER = "otlp";
  process.env.OTEL_TRACES_SAMPLER = a.sampler ?? "always_on";
  if (a.samplerArg) process.env.OTEL_TRACES_SAMPLER_ARG = a.samplerArg;
  const telemetry = await startTelemetry({ serviceName: `bench-${process.argv[2] ?? "worker"}` });
  if (!telemetry.tracing) throw new Error("startTelemetry did not enable tracing");
  flushTelemetry = () => telemetry.forceFlush();
}

/**
 * No tracer, only the AsyncLocalStorage context manager `startTelemetry()` registers, and one
 * context entered with it: from then on Node 20 runs AsyncLocalStorage's promise hooks for every
 * promise, as in any process where a sampled span has run.
 */
async function contextOnly(): Promise<void> {
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  if (!context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())) {
    throw new Error("a context manager is already registered");
  }
  context.with(ROOT_CONTEXT.setValue(createContextKey("bench"), true), () => {});
}

/** CPU ns per call of the hooks one Echo call runs with no SDK (timed twice, the second kept). */
function hooks(a: { iterations: number }): { nsPerCall: number; calls: number } {
  let sink: unknown;
  const turn = () => 1;
  const ok = { ok: true } as const;
  const loop = (n: number) => {
    for (let i = 0; i < n; i++) {
      const call = startCallSpan("Echo", "echo", "plain-00000042", "tracing.Echo.s17");
      const started = metricsEnabled() ? performance.now() : -1;
      const trace = startTurnSpan(undefined, "call", "Echo", "echo", "plain-00000042", "tracing.Echo.s17");
      sink = callInHop(trace, turn, undefined, undefined);
      endHopWith(trace, ok);
      if (call || started >= 0) endHop(call);
    }
  };
  loop(Math.min(a.iterations, 1_000_000));
  const before = process.cpuUsage();
  loop(a.iterations);
  const used = process.cpuUsage(before);
  if (sink !== 1) throw new Error("hook loop did not run");
  return { nsPerCall: ((used.user + used.system) * 1000) / a.iterations, calls: a.iterations };
}

export const tracing: Scenario = {
  name: "tracing",
  rows: [OFF, SAMPLED, RATIO, RATIO1, ALS, HEADER, LATENCY],
  run,
  commands: {
    "tracing.receiver": receiver,
    "tracing.receiverStats": () => ({ ...received }),
    "tracing.start": start,
    "tracing.contextOnly": contextOnly,
    "tracing.flush": () => flushTelemetry?.(),
    "tracing.hooks": hooks,
    "tracing.rawServe": rawServe,
    "tracing.rawCall": rawCall,
    "tracing.rawSeen": () => rawTraceparentsSeen,
  } as CommandTable,
};
