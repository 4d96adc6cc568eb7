#!/usr/bin/env node
/**
 * A/B of two runtime builds in one process, the caller side or the host side of an Echo call, as
 * `hot-path.ts` measures them: one mesh per build, their rounds interleaved so that the machine's
 * drift (other VMs on the host, frequency changes) hits both alike. On a noisy machine this is the
 * CPU figure that holds up: separate runs of one build spread ±50% on some days, the rounds here
 * within ±10%.
 *
 *   npx tsc -p tsconfig.bench.json --outDir /tmp/a     # at the one commit
 *   npx tsc -p tsconfig.bench.json --outDir /tmp/b     # at the other
 *   node bench/ab.mjs /tmp/a /tmp/b [off|RATIO] [--side caller|host] [--rounds N] [--batches N]
 *
 * Caller (default): a real `Mesh` whose connection's publish hands a pre-encoded Echo reply back a
 * microtask later. Host: a real host serving Echo on a real nats-server, the handlers it subscribes
 * fed encoded calls directly, its replies caught at `transport.reply` (decoding the call to
 * encoding the reply: envelope, checks, catalog, mailbox, turn).
 *
 * `off`: no tracer; RATIO (e.g. 0.01): each build's own Troupe tracer with a parent-based trace-id
 * ratio sampler, spans dropped, the AsyncLocalStorage context manager on (what `startTelemetry()`
 * registers); each round registers its build's provider. On the host side every call then carries
 * a `traceparent` (each 1/RATIO-th sampled), as from a caller with that sampler.
 *
 * The mesh made second in a process measured a few percent slower than the first even when both
 * were the same build, so the script runs twice, once in each order, and reports B/A for both and
 * their geometric mean (which cancels that). Each build folder gets a `package.json` ("type":
 * "module") and a `node_modules` link to this repository's, so that its files resolve their
 * packages from here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "24" },
    batches: { type: "string", default: "1000" },
    side: { type: "string", default: "caller" },
    child: { type: "string" },
  },
});
const [dirA, dirB, mode = "off"] = positionals;
if (!dirA || !dirB) {
  console.error(
    "usage: node bench/ab.mjs BUILD_A BUILD_B [off|RATIO] [--side caller|host] [--rounds N] [--batches N]",
  );
  process.exit(2);
}
if (values.side !== "caller" && values.side !== "host") {
  console.error(`--side is caller or host, not ${values.side}`);
  process.exit(2);
}
if (mode !== "off" && !(Number(mode) > 0 && Number(mode) <= 1)) {
  console.error(`tracing is off or a ratio in (0, 1], not ${mode}`);
  process.exit(2);
}

if (values.child === undefined) {
  for (const dir of [dirA, dirB]) {
    if (!existsSync(path.join(dir, "runtime", "index.js"))) {
      console.error(
        `${dir} is not a build (no runtime/index.js): npx tsc -p tsconfig.bench.json --outDir ${dir}`,
      );
      process.exit(2);
    }
    writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n');
    if (!existsSync(path.join(dir, "node_modules")))
      symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"), "dir");
  }
  const ratios = [];
  for (const order of ["ab", "ba"]) {
    const run = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        ...positionals,
        "--rounds",
        values.rounds,
        "--batches",
        values.batches,
        "--side",
        values.side,
        "--child",
        order,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    if (run.status !== 0) process.exit(run.status ?? 1);
    const line = run.stdout.trim().split("\n").at(-1) ?? "";
    console.log(line);
    ratios.push(Number(/B\/A ([0-9.]+)/.exec(line)?.[1]));
  }
  const geo = Math.sqrt((ratios[0] ?? Number.NaN) * (ratios[1] ?? Number.NaN));
  console.log(`${values.side} CPU per call, B/A over both orders (geometric mean): ${geo.toFixed(3)}`);
  process.exit(0);
}

// One process: both builds, meshes made in the order given, rounds interleaved.
const order = values.child === "ba" ? ["B", "A"] : ["A", "B"];
const dirs = { A: dirA, B: dirB };
const calls = 64 * Number(values.batches);
const rounds = Number(values.rounds);
const { trace } = await import("@opentelemetry/api");
const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } = await import(
  "@opentelemetry/sdk-trace-node"
);

async function load(dir) {
  const at = (rel) => import(pathToFileURL(path.resolve(dir, rel)).href);
  return {
    rt: await at("runtime/index.js"),
    envelope: await at("runtime/messaging/envelope.js"),
    testing: await at("runtime/testing/index.js"),
    propagation: await at("runtime/telemetry/propagation.js"),
    tracer: await at("runtime/telemetry/tracer/tracer.js"),
    sdk: await at("runtime/telemetry/sdk.js"),
    payload: await at("bench/lib/payload.js"),
    shard: await at("runtime/placement/shard.js"),
  };
}

const builds = {};
for (const side of order) builds[side] = await load(dirs[side]);
const server = await builds.A.testing.startNatsServer();
const providers = {};
if (mode !== "off") {
  const ratio = Number(mode);
  const dropping = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  for (const side of order) {
    providers[side] = new builds[side].tracer.TroupeTracerProvider({
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
      samplerIgnoresAttributes: true,
      samplerFollowsParent: true,
      rootRatio: ratio, // ignored by builds that predate it
      processor: new BatchSpanProcessor(dropping),
    });
  }
  // The context manager and propagator, once; each build's propagation module learns it is standard.
  await builds.A.sdk.registerGlobally(providers.A);
  for (const side of order) builds[side].propagation.useStandardPropagation(true);
}

const meshes = {};
for (const side of order) {
  const b = builds[side];
  class Echo extends b.rt.Actor {
    async echo(p) {
      return p;
    }
  }
  const mesh = await b.rt.connect({
    servers: server.url,
    prefix: `ab${side}`,
    logger: b.rt.consoleLogger("warn"),
  });
  const ids = Array.from({ length: 64 }, (_, i) => `echo-${String(i).padStart(8, "0")}`);
  meshes[side] = {
    mesh,
    batch: values.side === "host" ? await hostBatch(b, mesh, Echo, ids) : callerBatch(b, mesh, Echo, ids),
  };
}

/** A batch of 64 calls made through `mesh`, each answered by the loopback a microtask later. */
function callerBatch(b, mesh, Echo, ids) {
  const transport = mesh.transport;
  const reply = b.envelope.encodeResult(b.payload.payloadFor(ids[0]));
  transport.nc.publish = (_subject, _data, opts) => {
    // nats.js's publish encodes the headers: their rendering is Troupe's.
    opts?.headers?.encode();
    const to = opts?.reply;
    if (to) queueMicrotask(() => transport.onReply({ subject: to, data: reply, headers: undefined }));
  };
  const refs = ids.map((id) => mesh.ref(Echo, id));
  const payloads = ids.map((id) => b.payload.payloadFor(id));
  return () => Promise.all(refs.map((r, i) => r.echo(payloads[i])));
}

/** A batch of 64 encoded calls handed to the host's subscription handlers; resolves on the 64 replies. */
async function hostBatch(b, mesh, Echo, ids) {
  const transport = mesh.transport;
  const handlers = new Map();
  const realSubscribe = transport.subscribe.bind(transport);
  transport.subscribe = (subject, opts, handler) => {
    handlers.set(subject, handler);
    return realSubscribe(subject, opts, handler);
  };
  await mesh.host([Echo]);
  const subjects = ids.map((id) => mesh.subjects.rpc("Echo", b.shard.shardOf(id, 64)));
  for (let waited = 0; subjects.some((s) => !handlers.has(s)); waited += 20) {
    if (waited > 30_000) throw new Error("the host did not subscribe to the Echo shards within 30 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  const calls = ids.map((id) =>
    b.envelope.encodeCall({
      actorId: id,
      method: "echo",
      timeoutMs: 10_000,
      args: [b.payload.payloadFor(id)],
    }),
  );
  const replyTos = ids.map((_, i) => `_INBOX.ab.${i}`);
  const every = mode === "off" ? 0 : Math.round(1 / Number(mode));
  const parents = Array.from({ length: 1000 }, (_, i) =>
    every ? traceHeaders(i, i % every === 0) : undefined,
  );
  let pending = 0;
  let wake;
  transport.reply = (_to, data) => {
    // A reply envelope is [1, status, value]: anything but REPLY_OK (0) voids the measurement.
    if (data[2] !== 0)
      throw new Error(`the host answered with an error: ${JSON.stringify(b.envelope.decodeReply(data))}`);
    if (--pending === 0) wake();
  };
  let sent = 0;
  return () =>
    new Promise((resolve) => {
      pending = ids.length;
      wake = resolve;
      for (let i = 0; i < ids.length; i++) {
        handlers.get(subjects[i])({
          subject: subjects[i],
          data: calls[i],
          reply: replyTos[i],
          headers: parents[sent++ % parents.length],
        });
      }
    });
}

/** Read-only headers carrying a W3C `traceparent` (as the transport hands them to a host). */
function traceHeaders(i, sampled) {
  const hex = (n, width) => n.toString(16).padStart(width, "0");
  const map = new Map([["traceparent", `00-${hex(i + 1, 32)}-${hex(i + 1, 16)}-${sampled ? "01" : "00"}`]]);
  return { get: (k) => map.get(k) ?? "", has: (k) => map.has(k), keys: () => [...map.keys()] };
}

async function round(side) {
  if (mode !== "off") {
    trace.disable();
    trace.setGlobalTracerProvider(providers[side]);
  }
  const { batch } = meshes[side];
  for (let i = 0; i < 40; i++) await batch();
  const before = process.cpuUsage();
  for (let done = 0, r = 0; done < calls; done += 64, r++) {
    await batch();
    if (r % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const us = { A: [], B: [] };
for (let r = 0; r < rounds; r++)
  for (const side of r % 2 ? ["B", "A"] : ["A", "B"]) us[side].push(await round(side));
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const ratios = us.B.map((b, i) => b / us.A[i]);
const geo = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
for (const side of order) await meshes[side].mesh.close();
await server.cleanup();
console.log(
  `${values.side} side, meshes made ${order.join(" then ")}, tracing ${mode}, ${rounds} rounds of ${calls} calls: A median ${median(us.A).toFixed(2)} µs, B median ${median(us.B).toFixed(2)} µs, B/A ${geo.toFixed(3)} (geometric mean of the rounds)`,
);
process.exit(0);
