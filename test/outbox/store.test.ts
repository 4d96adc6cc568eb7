/**
 * The outbox's store on its own (no server): torn and damaged files, limits, the lock, dead letters.
 */
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import {
  inspectOutbox,
  OutboxFullError,
  OutboxLockedError,
  OutboxStore,
  OutboxStoreError,
} from "../../runtime/outbox/index.js";
import { eventually } from "../helpers/mesh.js";

const LIMITS = { maxBytes: 64 * 1024 * 1024, maxMessages: 1_000_000 };

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-store-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function event(i: number) {
  return {
    kind: "event" as const,
    subject: "t.evt.x",
    data: new TextEncoder().encode(`payload-${i}`),
    msgId: `m${i}`,
  };
}

/** Writes `count` entries and closes the store; returns the file offsets where each record starts. */
async function fill(dir: string, count: number): Promise<number[]> {
  const store = OutboxStore.open(dir, LIMITS);
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    starts.push(readFileSync(path.join(dir, "outbox.log")).length);
    await store.append(event(i)).durable;
  }
  store.close();
  return starts;
}

function msgIds(store: OutboxStore): string[] {
  return [...store.entries()].map((e) => e.msgId as string);
}

test("outbox store - entries survive a reopen, in order; done ones do not", async (t) => {
  const dir = await tempDir(t);
  const store = OutboxStore.open(dir, LIMITS);
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) seqs.push(store.append(event(i)).entry.seq);
  store.markDone([seqs[1] as number, seqs[3] as number]);
  store.close();
  const again = OutboxStore.open(dir, LIMITS);
  t.teardown(() => again.close());
  t.deepEqual(msgIds(again), ["m0", "m2", "m4"]);
  t.is(again.recovery.summary, "");
  // New entries follow the old ones (seq keeps increasing).
  const next = again.append(event(5)).entry;
  t.true(next.seq > (seqs[4] as number));
});

test("outbox store - a record torn at the end is cut off and reported; every complete record is kept", async (t) => {
  const dir = await tempDir(t);
  const starts = await fill(dir, 20);
  const file = path.join(dir, "outbox.log");
  const full = readFileSync(file).length;
  const last = starts[19] as number;
  truncateSync(file, last + Math.floor((full - last) / 2)); // the last record half written
  const store = OutboxStore.open(dir, LIMITS);
  t.teardown(() => store.close());
  t.deepEqual(
    msgIds(store),
    Array.from({ length: 19 }, (_, i) => `m${i}`),
  );
  t.regex(store.recovery.summary, /kept 19 intact records; cut off a torn last record \(\d+ bytes\)/);
  t.is(readFileSync(file).length, last, "the torn bytes are gone from the file");
});

test("outbox store - damage in the middle skips only the damaged record, keeps the rest and a copy", async (t) => {
  const dir = await tempDir(t);
  const starts = await fill(dir, 20);
  const file = path.join(dir, "outbox.log");
  const bytes = readFileSync(file);
  const at = (starts[7] as number) + 12; // inside record 7's body
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(file, bytes);
  const store = OutboxStore.open(dir, LIMITS);
  t.teardown(() => store.close());
  t.deepEqual(
    msgIds(store),
    Array.from({ length: 20 }, (_, i) => `m${i}`).filter((id) => id !== "m7"),
  );
  const span = (starts[8] as number) - (starts[7] as number);
  t.regex(
    store.recovery.summary,
    new RegExp(`skipped 1 damaged span\\(s\\): ${span} bytes at offset ${starts[7]}`),
  );
  t.regex(store.recovery.summary, /a copy of the damaged file is .*outbox\.log\.damaged-/);
  t.true((await readdir(dir)).some((f) => f.startsWith("outbox.log.damaged-")));
  // The rewritten log reads clean.
  store.close();
  const again = OutboxStore.open(dir, LIMITS);
  t.teardown(() => again.close());
  t.is(again.recovery.summary, "");
  t.is(again.pendingCount, 19);
});

test("outbox store - a damaged length field resynchronises on the next intact record", async (t) => {
  const dir = await tempDir(t);
  const starts = await fill(dir, 10);
  const file = path.join(dir, "outbox.log");
  const bytes = readFileSync(file);
  bytes.writeUInt32LE(0x7fffff00, starts[3] as number); // record 3 claims to be huge
  writeFileSync(file, bytes);
  const store = OutboxStore.open(dir, LIMITS);
  t.teardown(() => store.close());
  t.deepEqual(msgIds(store), ["m0", "m1", "m2", "m4", "m5", "m6", "m7", "m8", "m9"]);
});

test("outbox store - a file that is not an outbox is refused, untouched", async (t) => {
  const dir = await tempDir(t);
  writeFileSync(path.join(dir, "outbox.log"), "hello, not an outbox");
  const err = t.throws(() => OutboxStore.open(dir, LIMITS), { instanceOf: OutboxStoreError });
  t.regex(err?.message ?? "", /is not an outbox file/);
  t.is(readFileSync(path.join(dir, "outbox.log"), "utf8"), "hello, not an outbox");
});

test("outbox store - full by count or by bytes: OutboxFullError, nothing written", async (t) => {
  const dir = await tempDir(t);
  const store = OutboxStore.open(dir, { maxMessages: 3, maxBytes: 1_000_000 });
  t.teardown(() => store.close());
  for (let i = 0; i < 3; i++) store.append(event(i));
  const size = readFileSync(path.join(dir, "outbox.log")).length;
  const err = t.throws(() => store.append(event(3)), { instanceOf: OutboxFullError });
  t.is(err?.code, "TROUPE_OUTBOX_FULL");
  t.is(readFileSync(path.join(dir, "outbox.log")).length, size);
  t.is(store.pendingCount, 3);

  const small = await tempDir(t);
  const bytesStore = OutboxStore.open(small, { maxMessages: 100, maxBytes: 200 });
  t.teardown(() => bytesStore.close());
  bytesStore.append(event(0));
  const big = { ...event(1), data: new Uint8Array(300) };
  t.throws(() => bytesStore.append(big), { instanceOf: OutboxFullError });
  t.is(bytesStore.pendingCount, 1);
});

test("outbox store - one process at a time; a lock left by a dead process is taken over", async (t) => {
  const dir = await tempDir(t);
  OutboxStore.open(dir, LIMITS).close();
  // A lock held by another live process (this test's parent stands in for it).
  writeFileSync(path.join(dir, "lock"), String(process.ppid));
  const err = t.throws(() => OutboxStore.open(dir, LIMITS), { instanceOf: OutboxLockedError });
  t.is(err?.details.pid, process.ppid);
  writeFileSync(path.join(dir, "lock"), "999999999"); // no such process
  const again = OutboxStore.open(dir, LIMITS);
  // A second open within this process is refused as well, and the first keeps its lock.
  t.throws(() => OutboxStore.open(dir, LIMITS), {
    instanceOf: OutboxLockedError,
    message: /already open in this process/,
  });
  t.is(readFileSync(path.join(dir, "lock"), "utf8"), String(process.pid));
  again.close();
});

test("outbox store - dead letters keep their reason; replay puts them back with the same msgId", async (t) => {
  const dir = await tempDir(t);
  const store = OutboxStore.open(dir, LIMITS);
  const { entry } = store.append(event(0));
  store.append(event(1));
  store.deadLetter(entry, "expired: test");
  t.deepEqual(msgIds(store), ["m1"]);
  store.close();
  const seen = inspectOutbox(dir);
  t.deepEqual(
    seen.deadLetters.map((d) => [d.entry.msgId, d.reason]),
    [["m0", "expired: test"]],
  );
  const again = OutboxStore.open(dir, LIMITS);
  t.teardown(() => again.close());
  t.is(again.replayDeadLetters(), 1);
  t.deepEqual(msgIds(again), ["m1", "m0"]);
  t.is(again.deadLetters().length, 0);
});

test("outbox store - a log with nothing pending is cut back to its header", async (t) => {
  const dir = await tempDir(t);
  const store = OutboxStore.open(dir, LIMITS);
  const seqs = [0, 1, 2].map((i) => store.append(event(i)).entry.seq);
  store.markDone(seqs);
  t.is(readFileSync(path.join(dir, "outbox.log")).length, 12);
  t.is(store.pendingCount, 0);
  store.append(event(3));
  store.close();
  const again = OutboxStore.open(dir, LIMITS);
  t.teardown(() => again.close());
  t.deepEqual(msgIds(again), ["m3"]);
});

test("outbox store - done records and the cut back to the header are flushed by the group commit, unawaited", async (t) => {
  const dir = await tempDir(t);
  const store = OutboxStore.open(dir, LIMITS);
  t.teardown(() => store.close());
  const written = [0, 1, 2].map((i) => store.append(event(i)));
  await Promise.all(written.map((w) => w.durable));
  t.false(store.unflushed);
  // A power loss must not bring back entries already forwarded: their done record gets its fdatasync.
  store.markDone([written[0]?.entry.seq as number]);
  t.true(store.unflushed, "a done record was written");
  await eventually(() => !store.unflushed, 10_000, "the done record flushed");
  // Nothing pending: the log is cut back to its header, and that cut is flushed too.
  store.markDone(written.slice(1).map((w) => w.entry.seq));
  t.true(store.unflushed, "the log was cut back");
  await eventually(() => !store.unflushed, 10_000, "the cut flushed");
  t.is(readFileSync(path.join(dir, "outbox.log")).length, 12, "only the header is left");
});
