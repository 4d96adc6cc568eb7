/**
 * The outbox through the mesh API, with real servers: sends kept while NATS is down (never reached
 * or lost) and forwarded in order when it is back; calls fail at once while offline; full and
 * expired entries; status and events.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import {
  Actor,
  ConfigurationError,
  type ConnectOptions,
  connect,
  consoleLogger,
  type Mesh,
  OfflineError,
  OutboxFullError,
} from "troupe";
import { reservePorts } from "troupe/testing";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

class Recorder extends Actor<{ seen: number[] }> {
  static typeName = "OutboxRecorder";
  static initialState = () => ({ seen: [] as number[] });
  async note(i: number): Promise<number> {
    this.state.seen.push(i);
    return this.state.seen.length;
  }
  async seen(): Promise<number[]> {
    return this.state.seen;
  }
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A mesh with an outbox whose server (on a reserved port) is not started. */
async function offlineMesh(t: ExecutionContext, outbox: Partial<NonNullable<ConnectOptions["outbox"]>> = {}) {
  const [port] = await reservePorts(1);
  const dir = await tempDir(t);
  const prefix = `ob${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const mesh = await connect({
    servers: `nats://127.0.0.1:${port}`,
    prefix,
    reconnectTimeWaitMs: 100,
    logger: consoleLogger("silent"),
    outbox: { path: dir, ...outbox },
  });
  t.teardown(() => mesh.close());
  return { mesh, port: port as number, prefix, dir };
}

test("outbox - a call while NATS was never reached fails at once with OfflineError", async (t) => {
  const { mesh } = await offlineMesh(t);
  t.false(mesh.outbox?.status().online);
  // A deadline far beyond the test's timeout: only failing at once lets this test pass.
  const ref = mesh.ref(Recorder, "r1", { timeoutMs: 3_600_000 });
  const err = await t.throwsAsync(ref.seen(), { instanceOf: OfflineError });
  t.is(err?.code, "TROUPE_OFFLINE");
  t.true(err?.retryable);
});

test("outbox - a call after the connection was lost fails at once with OfflineError", async (t) => {
  const server = await startServer(t);
  const dir = await tempDir(t);
  const mesh = await connect({
    servers: server.url,
    prefix: `obl${process.pid}`,
    reconnectTimeWaitMs: 100,
    logger: consoleLogger("silent"),
    outbox: { path: dir },
  });
  t.teardown(() => mesh.close());
  const outbox = mesh.outbox as NonNullable<Mesh["outbox"]>;
  t.true(outbox.status().online);
  const wentOffline = new Promise<void>((resolve) => outbox.on("offline", resolve));
  await server.stop();
  await wentOffline;
  await t.throwsAsync(mesh.ref(Recorder, "r1", { timeoutMs: 3_600_000 }).seen(), {
    instanceOf: OfflineError,
  });
  // Sends are kept meanwhile.
  const receipt = await mesh.publish("outbox.lost", { n: 1 });
  t.true(receipt.queued);
  t.is(outbox.status().pending, 1);
});

test("outbox - full: publish, enqueue and tell fail with OutboxFullError and nothing is written", async (t) => {
  const { mesh } = await offlineMesh(t, { maxMessages: 2 });
  await mesh.publish("outbox.full", { n: 1 });
  await mesh.enqueue(Recorder, "r1").note(1);
  await t.throwsAsync(mesh.publish("outbox.full", { n: 2 }), { instanceOf: OutboxFullError });
  await t.throwsAsync(mesh.enqueue(Recorder, "r1").note(2), { instanceOf: OutboxFullError });
  t.throws(() => mesh.ref(Recorder, "r1").tell.note(3), { instanceOf: OutboxFullError });
  t.is(mesh.outbox?.status().pending, 2);
});

test("outbox - an entry not forwarded within ttlMs becomes a local dead letter with the reason", async (t) => {
  const { mesh } = await offlineMesh(t, { ttlMs: 200 });
  const outbox = mesh.outbox as NonNullable<Mesh["outbox"]>;
  const reasons: string[] = [];
  outbox.on("deadLetter", (_entry, reason) => reasons.push(reason));
  await mesh.publish("outbox.ttl", { n: 1 }, { msgId: "ttl-1" });
  await outbox.drained(); // nothing pending any more: given up, not forwarded
  t.is(outbox.status().deadLetters, 1);
  t.is(outbox.status().pending, 0);
  const [letter] = outbox.deadLetters();
  t.is(letter?.entry.msgId, "ttl-1");
  t.regex(letter?.reason ?? "", /^expired: not forwarded within the outbox's ttlMs of 200 ms/);
  t.deepEqual(reasons, [letter?.reason]);
});

test("outbox - tells, jobs and events sent while NATS is down are each delivered once when it is back", async (t) => {
  // The host's type is registered first (a tell to a type nobody ever hosted is dropped, outbox or not).
  const server = await startServer(t);
  const prefix = `obo${process.pid}`;
  const hostMesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => hostMesh.close());
  await hostMesh.host([Recorder]);
  const dir = await tempDir(t);
  const mesh = await connect({
    servers: server.url,
    prefix,
    reconnectTimeWaitMs: 100,
    logger: consoleLogger("silent"),
    outbox: { path: dir },
  });
  t.teardown(() => mesh.close());
  const outbox = mesh.outbox as NonNullable<Mesh["outbox"]>;
  const events: string[] = [];
  for (const e of ["online", "offline", "drained"] as const) outbox.on(e, () => events.push(e));
  const wentOffline = new Promise<void>((resolve) => outbox.on("offline", resolve));
  await server.stop();
  await wentOffline;

  const recorder = mesh.ref(Recorder, "r1", { timeoutMs: 60_000 });
  for (let i = 0; i < 50; i++) recorder.tell.note(i);
  const job = await mesh.enqueue(Recorder, "r2").note(7);
  const receipt = await mesh.publish("outbox.early", { n: 1 });
  t.true(receipt.queued);
  t.is(outbox.status().pending, 52);
  t.false(outbox.status().online);

  const cameBack = new Promise<void>((resolve) => outbox.on("online", resolve));
  await server.restart();
  await cameBack;
  // Sent while the queued ones may still be forwarding: they must not overtake them.
  for (let i = 50; i < 100; i++) recorder.tell.note(i);
  await outbox.drained();
  t.is(outbox.status().pending, 0);
  t.is(await job.result({ timeoutMs: 60_000 }), 1);
  const expected = Array.from({ length: 100 }, (_, i) => i);
  await eventually(async () => (await recorder.seen()).length >= 100, 60_000, "every tell handled");
  // Each tell once and in order, even those forwarded before the host had its shard back: they
  // stay in the outbox until it has (test/outbox/order.test.ts).
  t.deepEqual(await recorder.seen(), expected);
  t.deepEqual(events.slice(0, 2), ["offline", "online"]);
  t.true(events.includes("drained"));
});

test("outbox - connected, every send goes through the outbox: tells to a served actor keep their order", async (t) => {
  const server = await startServer(t);
  const prefix = `obs${process.pid}`;
  const hostMesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => hostMesh.close());
  await hostMesh.host([Recorder]);
  const mesh = await connect({
    servers: server.url,
    prefix,
    logger: consoleLogger("silent"),
    outbox: { path: await tempDir(t) },
  });
  t.teardown(() => mesh.close());
  const recorder = mesh.ref(Recorder, "r3", { timeoutMs: 60_000 });
  t.is((await recorder.seen()).length, 0); // the shard is served
  for (let i = 0; i < 500; i++) recorder.tell.note(i);
  t.true((mesh.outbox?.status().pending ?? 0) > 0, "queued in the outbox first");
  await mesh.outbox?.drained();
  await eventually(async () => (await recorder.seen()).length >= 500, 60_000, "every tell handled");
  t.deepEqual(
    await recorder.seen(),
    Array.from({ length: 500 }, (_, i) => i),
  );
});

test("outbox - bad outbox options fail at connect() with a ConfigurationError naming the option", async (t) => {
  const err = await t.throwsAsync(
    connect({
      servers: "nats://127.0.0.1:1",
      logger: consoleLogger("silent"),
      outbox: { path: "x", ttlMs: -1 },
    }),
    { instanceOf: ConfigurationError },
  );
  t.regex(err?.message ?? "", /^outbox\.ttlMs must be/);
});
