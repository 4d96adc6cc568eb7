/**
 * The durable client outbox (docs/patterns/sparse-connectivity.md), against a direct JetStream
 * publish doing the same number of durable sends, in the same run.
 *
 * - `outbox.append`: `mesh.publish()` with `connect({ outbox })` while NATS is unreachable (a
 *   refused port): each call resolves once its entry is written and flushed to disk (fdatasync,
 *   shared by the calls in flight). Baseline: raw `js.publish()` to a file-backed stream, each
 *   awaiting its PubAck. Both with {@link CONCURRENCY} calls in flight.
 * - `outbox.drain`: an outbox filled with N entries offline is opened by a connected mesh; the rate
 *   is N over the time from `connect()` to the `drained` event (reading the log back, creating the
 *   stream, forwarding in windows of 256 with `Nats-Msg-Id`, marking them done). Baseline: raw
 *   `js.publish()` of N messages with 256 in flight.
 *
 * One worker process does both sides; CPU per operation is the worker's and nats-server's.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { pack } from "msgpackr";
import { connect, consoleLogger, type Mesh } from "troupe";
import { measureCpu } from "../lib/cpu.js";
import type { CommandTable } from "../lib/ipc.js";
import { payloadFor } from "../lib/payload.js";
import { finishRow, type RowSpec, type Side } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { env, mesh, rawConnection } from "../lib/worker-env.js";

const TOPIC = "bench.outbox";
const RAW_STREAM = "BENCH_RAW_OUTBOX";
const RAW_SUBJECT = "bench.rawoutbox.x";
const CONCURRENCY = 64;
const DRAIN_WINDOW = 256;
/** Nothing listens there: connect() with an outbox returns and every send goes to disk only. */
const UNREACHABLE = "nats://127.0.0.1:1";

const APPEND: RowSpec = {
  id: "outbox.append",
  title: "outbox append (durable, offline) vs JetStream publish",
};
const DRAIN: RowSpec = { id: "outbox.drain", title: "outbox drain after reconnect vs JetStream publish" };

interface Done {
  count: number;
  elapsedMs: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const drainCount = ctx.settings.durationMs >= 3000 ? 20_000 : 2_000;
  await ctx.withWorkers({ client: {} }, async (w) => {
    const client = workerOf(w, "client");
    await client.call("outbox.prepare");
    const side = (
      rowId: string,
      label: string,
      impl: "troupe" | "raw",
      before: (() => Promise<unknown>) | undefined,
      body: () => Promise<Done>,
    ): SideRunner => ({
      run: async (round) => {
        ctx.log(`${rowId}: ${label}${ctx.settings.rounds > 1 ? ` (round ${round + 1})` : ""}`);
        await before?.();
        const { result, cpuUsPerOp } = await measureCpu({ client }, ctx.natsPid, body, (r) => r.count);
        const s: Side = {
          label,
          impl,
          opsPerSec: (result.count / result.elapsedMs) * 1000,
          count: result.count,
          cpuUsPerOp,
          note: `${result.count.toLocaleString("en-US")} durable sends`,
        };
        return impl === "raw" ? { ...s, baseline: true } : s;
      },
    });
    const durationMs = ctx.settings.durationMs;
    if (ctx.wants(APPEND.id)) {
      const sides = await interleavedRounds(
        [
          side(APPEND.id, "Troupe publish into the outbox (written + fdatasync)", "troupe", undefined, () =>
            client.call<Done>("outbox.append", { durationMs }),
          ),
          side(APPEND.id, "raw js.publish, PubAck awaited (baseline)", "raw", undefined, () =>
            client.call<Done>("outbox.raw", { durationMs, concurrency: CONCURRENCY }),
          ),
        ].filter((_, i) => ctx.wantsImpl(i === 0 ? "troupe" : "raw")),
        ctx.settings.rounds,
      );
      ctx.record(finishRow(APPEND, sides));
    }
    if (ctx.wants(DRAIN.id)) {
      const sides = await interleavedRounds(
        [
          side(
            DRAIN.id,
            `Troupe outbox of ${drainCount.toLocaleString("en-US")} forwarded after connect`,
            "troupe",
            () => client.call("outbox.fill", { count: drainCount }),
            () => client.call<Done>("outbox.drain"),
          ),
          side(DRAIN.id, "raw js.publish, 256 in flight (baseline)", "raw", undefined, () =>
            client.call<Done>("outbox.raw", { count: drainCount, concurrency: DRAIN_WINDOW }),
          ),
        ].filter((_, i) => ctx.wantsImpl(i === 0 ? "troupe" : "raw")),
        ctx.settings.rounds,
      );
      ctx.record(finishRow(DRAIN, sides));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side

let fillDir: string | undefined;
const payloads = Array.from({ length: 64 }, (_, i) => payloadFor(idOf("ob", i)));

async function prepare(): Promise<void> {
  // The events stream exists before any drain (a connected publish creates it).
  await (await mesh()).publish(TOPIC, payloads[0]);
  const jsm = await jetstreamManager(await rawConnection("fast"));
  await jsm.streams.add({ name: RAW_STREAM, subjects: [RAW_SUBJECT], storage: StorageType.File });
}

async function offlineMesh(dir: string): Promise<Mesh> {
  return connect({
    servers: UNREACHABLE,
    prefix: env().prefix,
    logger: consoleLogger("error"),
    outbox: { path: dir },
  });
}

/** Runs `send` with `concurrency` calls in flight, for `durationMs` or `count` sends. */
async function loop(
  send: (i: number) => Promise<unknown>,
  concurrency: number,
  limit: { durationMs?: number; count?: number },
): Promise<Done> {
  const start = performance.now();
  const end = limit.durationMs === undefined ? Number.POSITIVE_INFINITY : start + limit.durationMs;
  const max = limit.count ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  let done = 0;
  const worker = async () => {
    while (issued < max && performance.now() < end) {
      await send(issued++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { count: done, elapsedMs: performance.now() - start };
}

async function append(a: { durationMs: number }): Promise<Done> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-outbox-"));
  const m = await offlineMesh(dir);
  try {
    return await loop((i) => m.publish(TOPIC, payloads[i % 64]), CONCURRENCY, a);
  } finally {
    await m.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function raw(a: { durationMs?: number; count?: number; concurrency: number }): Promise<Done> {
  const js = jetstream(await rawConnection("fast"));
  return loop((i) => js.publish(RAW_SUBJECT, pack(payloads[i % 64])), a.concurrency, a);
}

async function fill(a: { count: number }): Promise<void> {
  fillDir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-outbox-"));
  const m = await offlineMesh(fillDir);
  try {
    await loop((i) => m.publish(TOPIC, payloads[i % 64]), CONCURRENCY, { count: a.count });
  } finally {
    await m.close();
  }
}

async function drain(): Promise<Done> {
  const dir = fillDir;
  if (!dir) throw new Error("outbox.fill first");
  const start = performance.now();
  const m = await connect({
    servers: env().url,
    prefix: env().prefix,
    logger: consoleLogger("error"),
    outbox: { path: dir, forwardWindow: DRAIN_WINDOW },
  });
  try {
    const count = m.outbox?.status().pending ?? 0;
    await m.outbox?.drained();
    return { count, elapsedMs: performance.now() - start };
  } finally {
    await m.close();
    await rm(dir, { recursive: true, force: true });
    fillDir = undefined;
  }
}

export const outbox: Scenario = {
  name: "outbox",
  rows: [APPEND, DRAIN],
  run,
  commands: {
    "outbox.prepare": prepare,
    "outbox.append": append,
    "outbox.raw": raw,
    "outbox.fill": fill,
    "outbox.drain": drain,
  } as CommandTable,
};
