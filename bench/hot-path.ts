/**
 * In-process hot-path measurement: the CPU Troupe's own code spends per call, with nats.js taken
 * out of the loop, next to what the raw pattern's own code spends. The network bench (run.ts)
 * answers "how fast end to end"; this answers "how many microseconds of that are Troupe's", with
 * far less noise (one process, CPU time, no scheduling between three processes on two cores).
 *
 *   node --conditions=troupe-source --import tsx bench/hot-path.ts [--calls N] [--concurrency C]
 *        [--side caller|host|both] [--tracing off|spans|otlp] [--tracer troupe|sdk]
 *        [--throttle none|rate|concurrency|plane] [--alloc [--alloc-sites N]] [--promises]
 *        (add --cpu-prof to profile this code)
 *
 * `--tracing spans` registers a tracer (AsyncLocalStorage context manager, W3C propagator, 100%
 * sampling, batch span processor) with an exporter that drops the spans; `--tracing otlp` also
 * serializes every batch to OTLP protobuf (as the OTLP/HTTP exporter does) before dropping it. The
 * difference between the three is what tracing costs per call. `--tracer troupe` (default) is
 * Troupe's own tracer and encoder, `--tracer sdk` the OpenTelemetry SDK's (bench/lib/sdk-cost.ts).
 *
 * Caller side: a real `Mesh` whose connection's `publish` is replaced by an in-memory loopback that
 * hands a pre-encoded reply straight to the transport's reply handler (a microtask later), so
 * `ref.echo(payload)` runs everything Troupe does (proxy, envelope, subject, deadline timer, pending
 * map, reply decoding) and nothing nats.js does. Raw: `pack`, the multiplexed requester, `unpack`
 * over the same loopback.
 *
 * Host side: a real host serving `Echo` on a real nats-server; the handlers it subscribes are
 * captured and fed encoded calls directly, replies are caught at `transport.reply`. Everything from
 * decoding the call to encoding the reply is measured (envelope, validation, shard check, catalog,
 * mailbox, turn, AsyncLocalStorage, reply encoding). Raw: `unpack` + `pack`.
 *
 * `--throttle rate` gives the host the throttling interceptor with a policy matching every Echo call
 * whose rate never triggers (1e9/s, shares applied directly, no control plane): the `throttle.c64`
 * row's host side in-process; `--throttle concurrency` a never-reached concurrency limit instead
 * (every turn takes and frees a slot); `--throttle plane` the host's own `throttling` option with
 * that rate policy from a control plane started in this process (host channel, metrics and all,
 * as in `throttle.c64`; the plane's own CPU, a report a second, is counted too).
 *
 * `--alloc` also reports the heap bytes allocated per call (V8's sampling heap profiler, objects
 * already collected included): unlike CPU time it does not move with the machine's load, so it
 * shows a change to the hot path's allocations on a busy machine (the sampler costs CPU: read the
 * µs figures of such a run as rough).
 *
 * `--alloc-sites N` lists the N functions that allocated the most per call, for each side measured.
 *
 * `--promises` also counts the promises created per call (an async hook, so the µs figures of such
 * a run include the promise hooks' cost): with an AsyncLocalStorage on, as a tracer's context
 * manager has it, Node 20 runs promise hooks for every promise, so fewer promises per call is less
 * of that tax.
 *
 * This reaches into runtime internals (the transport's connection and reply handler) on purpose;
 * it is a diagnostic, not an API user. Works with `--import bench/lib/built-register.mjs` and
 * TROUPE_BENCH_BUILT=DIR too (see run.ts --built).
 */
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import type { Msg } from "@nats-io/nats-core";
import { pack, unpack } from "msgpackr";
import { connect, consoleLogger, type InboundInterceptor, type Mesh } from "troupe";
import { startNatsServer } from "troupe/testing";
import { decodeReply, encodeCall, encodeResult, REPLY_OK } from "../runtime/messaging/envelope.js";
import { shardOf } from "../runtime/placement/shard.js";
import {
  connectControlPlane,
  LocalEnforcer,
  throttlingInterceptor,
  validatePolicy,
} from "../runtime/throttling/index.js";
import { Echo } from "./lib/actors.js";
import { type Payload, payloadFor } from "./lib/payload.js";
import { MuxRequester } from "./lib/raw.js";
import { idOf } from "./lib/scenario.js";
import { startSdk } from "./lib/sdk-cost.js";

interface Result {
  usPerCall: number;
  calls: number;
  /** Heap bytes allocated per call, with `--alloc`. */
  bytesPerCall?: number;
  /** Promises created per call, with `--promises`. */
  promisesPerCall?: number;
}

/** Counts the promises created while measuring (`--promises`), or undefined. */
let promiseCounter: { count: number; hook: ReturnType<typeof createHook> } | undefined;

/** The inspector session sampling allocations (`--alloc`), or undefined. */
let heapSampler: Session | undefined;

async function startHeapSampling(): Promise<void> {
  if (!heapSampler) return;
  await heapSampler.post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

interface SamplingNode {
  selfSize: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: SamplingNode[];
}

/** `--alloc-sites N`: how many allocating functions to list per side (0: none). */
let allocSites = 0;

/**
 * Bytes allocated since {@link startHeapSampling} (undefined without `--alloc`); with
 * `--alloc-sites N`, the N functions that allocated most, per call, are printed too.
 */
async function stopHeapSampling(calls: number): Promise<number | undefined> {
  if (!heapSampler) return undefined;
  const { profile } = await heapSampler.post("HeapProfiler.stopSampling");
  const sites = new Map<string, number>();
  const total = (n: SamplingNode): number => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const site = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + n.selfSize);
    }
    return n.children.reduce((sum, c) => sum + total(c), n.selfSize);
  };
  const bytes = total(profile.head as SamplingNode);
  if (allocSites > 0) {
    const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, allocSites);
    for (const [site, size] of top) console.log(`  ${(size / calls).toFixed(0).padStart(6)} B/call  ${site}`);
  }
  return bytes;
}

/** Runs `batch` (which completes `size` calls) until `calls` calls are done; CPU µs per call. */
async function measure(
  calls: number,
  size: number,
  batch: (round: number) => Promise<void>,
): Promise<Result> {
  // warm-up: JIT and steady-state allocation
  for (let r = 0; r < Math.max(50, calls / size / 5); r++) {
    await batch(r);
    if (r % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  await startHeapSampling();
  if (promiseCounter) {
    promiseCounter.count = 0;
    promiseCounter.hook.enable();
  }
  const before = process.cpuUsage();
  let done = 0;
  for (let r = 0; done < calls; r++) {
    await batch(r);
    done += size;
    // Let timers run (lease renewals, the membership watch): a loop of microtasks alone starves
    // them, and a host whose leases lapse answers every call with an error from then on.
    if (r % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  const u = process.cpuUsage(before);
  promiseCounter?.hook.disable();
  const bytes = await stopHeapSampling(done);
  return {
    usPerCall: (u.user + u.system) / done,
    calls: done,
    ...(bytes === undefined ? {} : { bytesPerCall: bytes / done }),
    ...(promiseCounter ? { promisesPerCall: promiseCounter.count / done } : {}),
  };
}

/** Read-only headers carrying a W3C `traceparent` (as the transport hands them to a host). */
function traceHeaders(i: number, sampled: boolean) {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
  const map = new Map([["traceparent", `00-${hex(i + 1, 32)}-${hex(i + 1, 16)}-${sampled ? "01" : "00"}`]]);
  return {
    get: (k: string) => map.get(k) ?? "",
    has: (k: string) => map.has(k),
    keys: () => [...map.keys()],
  };
}

type Publish = (
  subject: string,
  data: Uint8Array,
  opts?: { reply?: string; headers?: { encode(): Uint8Array } },
) => void;

/**
 * Replaces `nc.publish` with a loopback delivering `reply` to `onReply` one microtask later. The
 * headers are encoded, as nats.js's publish does: their rendering is Troupe's.
 */
function loopback(target: { publish: Publish }, reply: Uint8Array, onReply: (msg: Msg) => void): void {
  target.publish = (_subject, _data, opts) => {
    opts?.headers?.encode();
    const to = opts?.reply;
    if (!to) return;
    queueMicrotask(() => onReply({ subject: to, data: reply, headers: undefined } as unknown as Msg));
  };
}

async function callerSide(mesh: Mesh, calls: number, concurrency: number) {
  const ids = Array.from({ length: concurrency }, (_, i) => idOf("echo", i));
  const payloads = ids.map(payloadFor);
  // Troupe: the mesh's transport, with its connection's publish looped back.
  const transport = mesh.transport as unknown as {
    nc: { publish: Publish };
    onReply(msg: Msg): void;
  };
  const realPublish = transport.nc.publish;
  loopback(transport.nc, encodeResult(payloads[0]), (msg) => transport.onReply(msg));
  const refs = ids.map((id) => mesh.ref(Echo, id));
  const troupe = await measure(calls, concurrency, async () => {
    await Promise.all(refs.map((r, i) => r.echo(payloads[i] as Payload)));
  });
  transport.nc.publish = realPublish;

  // Raw: the multiplexed requester over the same kind of loopback.
  const fakeNc = {
    publish: (() => {}) as Publish,
    subscribe: (_s: string, o: { callback: (e: Error | null, m: Msg) => void }) => {
      sink = o.callback;
      return {};
    },
  };
  let sink: ((e: Error | null, m: Msg) => void) | undefined;
  const mux = new MuxRequester(fakeNc as never);
  loopback(fakeNc, pack(payloads[0]), (msg) => sink?.(null, msg));
  const raw = await measure(calls, concurrency, async () => {
    await Promise.all(payloads.map(async (p) => unpack(await mux.request("bench.echo", pack(p)))));
  });
  return { troupe, raw };
}

/**
 * With `sampledShare` > 0 every call carries a `traceparent` as a traced caller sends it: that share
 * of them with the sampled flag, the rest without (a parent-based sampler follows the flag).
 */
/** The host's inbound interceptors for `--throttle`: none, or the enforcer with a never-triggering policy. */
function throttleInterceptors(mode: string): InboundInterceptor[] {
  if (mode === "none" || mode === "plane") return [];
  const enforcer = new LocalEnforcer();
  const concurrency = mode === "concurrency";
  enforcer.applyShares({
    generation: 1,
    policies: [
      {
        policy: validatePolicy({
          name: "never-triggers",
          match: { actorTypes: ["Echo"] },
          limit: concurrency ? { maxConcurrency: 1e6 } : { ratePerSecond: 1e9 },
        }),
        defaultShare: concurrency
          ? { ratePerSecond: 0, burst: 0, maxConcurrency: 1e6 }
          : { ratePerSecond: 1e9, burst: 1e9, maxConcurrency: 0 },
        keys: [],
      },
    ],
  });
  return [throttlingInterceptor(enforcer)];
}

async function hostSide(
  url: string,
  calls: number,
  concurrency: number,
  sampledShare: number,
  interceptors: InboundInterceptor[],
  plane: boolean,
) {
  const host = await connect({ servers: url, prefix: "hp", logger: consoleLogger("warn") });
  const transport = host.transport as unknown as {
    subscribe(subject: string, opts: unknown, handler: (msg: unknown) => void): unknown;
    reply(to: string, data: Uint8Array): void;
  };
  const handlers = new Map<string, (msg: unknown) => void>();
  const realSubscribe = transport.subscribe.bind(transport);
  transport.subscribe = (subject, opts, handler) => {
    handlers.set(subject, handler);
    return realSubscribe(subject, opts, handler);
  };
  let stopPlane: (() => Promise<void>) | undefined;
  if (plane) {
    const { startControlPlane } = await import("../services/control-plane/index.js");
    const token = "hot-path-control-token-0123456789";
    const cp = await startControlPlane({
      port: 0,
      bind: "127.0.0.1",
      nats: { servers: url },
      prefix: "hp",
      tokens: [token],
    });
    stopPlane = () => cp.stop();
    const api = connectControlPlane({ address: cp.address, token });
    await new Promise<void>((resolve, reject) =>
      api.throttle.SetPolicy(
        {
          policy: { name: "never-triggers", match: { actorTypes: ["Echo"] }, limit: { ratePerSecond: 1e9 } },
        },
        api.metadata(),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    api.close();
    const h = await host.host([Echo], { throttling: { controlPlane: cp.address, token } });
    for (let waited = 0; (h.enforcer?.policies().length ?? 0) === 0; waited += 20) {
      if (waited > 30_000) throw new Error("the host got no throttle shares within 30 s");
      await new Promise((r) => setTimeout(r, 20));
    }
  } else await host.host([Echo], { interceptors });
  const ids = Array.from({ length: concurrency }, (_, i) => idOf("echo", i));
  const subjects = ids.map((id) => host.subjects.rpc("Echo", shardOf(id, 64)));
  for (let waited = 0; subjects.some((s) => !handlers.has(s)); waited += 20) {
    if (waited > 30_000) throw new Error("the host did not subscribe to the Echo shards within 30 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  const calls64 = ids.map((id) =>
    encodeCall({ actorId: id, method: "echo", timeoutMs: 10_000, args: [payloadFor(id)] }),
  );
  const replyTos = ids.map((_, i) => `_INBOX.bench.${i}`);
  const parents = Array.from({ length: 1000 }, (_, i) =>
    sampledShare > 0 ? traceHeaders(i, (i * sampledShare) % 1 < sampledShare) : undefined,
  );
  let pending = 0;
  let wake: (() => void) | undefined;
  let failed: Uint8Array | undefined;
  transport.reply = (_to, data) => {
    // A reply envelope is [1, status, value]: fixarray, version, then REPLY_OK (0) or REPLY_ERROR.
    if (data[2] !== REPLY_OK) failed ??= data;
    if (--pending === 0) wake?.();
  };
  const feed = (deliver: (i: number) => void) =>
    new Promise<void>((resolve) => {
      pending = ids.length;
      wake = resolve;
      for (let i = 0; i < ids.length; i++) deliver(i);
    });
  let sent = 0;
  const troupe = await measure(calls, concurrency, () =>
    feed((i) =>
      (handlers.get(subjects[i] as string) as (msg: unknown) => void)({
        subject: subjects[i],
        data: calls64[i],
        reply: replyTos[i],
        headers: parents[sent++ % parents.length],
      }),
    ),
  );
  if (failed) {
    const reply = decodeReply(failed);
    throw new Error(
      `the host answered with an error, the measurement is void: ${reply.ok ? "?" : reply.error.message}`,
    );
  }
  const rawCalls = ids.map((id) => pack(payloadFor(id)));
  const raw = await measure(calls, concurrency, async () => {
    for (const bytes of rawCalls) pack(unpack(bytes));
  });
  await host.close();
  await stopPlane?.();
  return { troupe, raw };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: "string", default: "400000" },
      concurrency: { type: "string", default: "64" },
      side: { type: "string", default: "both" },
      tracing: { type: "string", default: "off" },
      tracer: { type: "string", default: "troupe" },
      ratio: { type: "string", default: "1" },
      throttle: { type: "string", default: "none" },
      alloc: { type: "boolean", default: false },
      "alloc-sites": { type: "string", default: "0" },
      promises: { type: "boolean", default: false },
    },
  });
  if (values.promises) {
    const counter = {
      count: 0,
      hook: createHook({
        init(_id, type) {
          if (type === "PROMISE") counter.count++;
        },
      }),
    };
    promiseCounter = counter;
  }
  allocSites = Number(values["alloc-sites"]);
  if (values.alloc || allocSites > 0) {
    heapSampler = new Session();
    heapSampler.connect();
    await heapSampler.post("HeapProfiler.enable");
  }
  const tracing = values.tracing;
  if (tracing !== "off" && tracing !== "spans" && tracing !== "otlp" && tracing !== "als")
    throw new Error("--tracing is off, spans, otlp or als");
  const tracer = values.tracer;
  const ratio = Number(values.ratio);
  if (!(ratio > 0 && ratio <= 1)) throw new Error("--ratio is in (0, 1]");
  if (tracer !== "troupe" && tracer !== "sdk") throw new Error("--tracer is troupe or sdk");
  // `als`: no tracing, only an AsyncLocalStorage switched on (its promise hooks tax every promise).
  if (tracing === "als") new AsyncLocalStorage().enterWith({});
  const sdk =
    tracing === "off" || tracing === "als" ? undefined : await startSdk(tracing === "otlp", tracer, ratio);
  const side = values.side;
  if (side !== "both" && side !== "caller" && side !== "host")
    throw new Error("--side is caller, host or both");
  const throttle = values.throttle;
  if (!["none", "rate", "concurrency", "plane"].includes(throttle))
    throw new Error("--throttle is none, rate, concurrency or plane");
  const calls = Number(values.calls);
  const concurrency = Number(values.concurrency);
  const server = await startNatsServer();
  try {
    let c: { troupe: Result; raw: Result } | undefined;
    let h: { troupe: Result; raw: Result } | undefined;
    if (side !== "host") {
      const caller = await connect({ servers: server.url, prefix: "hp", logger: consoleLogger("warn") });
      c = await callerSide(caller, calls, concurrency);
      await caller.close();
    }
    if (side !== "caller")
      h = await hostSide(
        server.url,
        calls,
        concurrency,
        tracing === "off" || tracing === "als" ? 0 : ratio,
        throttleInterceptors(throttle),
        throttle === "plane",
      );
    const bytesOf = (r: { troupe: Result; raw: Result }) =>
      r.troupe.bytesPerCall === undefined || r.raw.bytesPerCall === undefined
        ? ""
        : `   heap ${Math.round(r.troupe.bytesPerCall)} B/call (raw ${Math.round(r.raw.bytesPerCall)} B)`;
    const promisesOf = (r: { troupe: Result; raw: Result }) =>
      r.troupe.promisesPerCall === undefined || r.raw.promisesPerCall === undefined
        ? ""
        : `   promises ${r.troupe.promisesPerCall.toFixed(2)}/call (raw ${r.raw.promisesPerCall.toFixed(2)})`;
    const us = (n: number) => n.toFixed(2).padStart(6);
    const row = (name: string, r: { troupe: Result; raw: Result }) =>
      `${name.padEnd(8)} Troupe ${us(r.troupe.usPerCall)} µs/call   raw ${us(r.raw.usPerCall)} µs/call   Troupe adds ${(r.troupe.usPerCall - r.raw.usPerCall).toFixed(2)} µs${bytesOf(r)}${promisesOf(r)}`;
    console.log(
      `in-process hot path, ${calls.toLocaleString("en-US")} calls, ${concurrency} in flight, tracing ${tracing}${tracing === "off" ? "" : ` (${tracer} tracer)`}, throttle ${throttle}, nats.js stubbed out (${process.env.TROUPE_BENCH_BUILT ? `tsc build ${process.env.TROUPE_BENCH_BUILT}` : "sources via tsx"})`,
    );
    if (c) console.log(row("caller", c));
    if (h) console.log(row("host", h));
  } finally {
    await sdk?.shutdown();
    await server.cleanup();
  }
}

await main();
process.exit(0);
