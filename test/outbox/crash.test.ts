/**
 * The outbox under a crash (issue 18): publishes made while NATS is down are written through to the
 * outbox, the sender is killed with SIGKILL half-way, restarted, the server started; every
 * acknowledged publish reaches the events stream exactly once, in order. The sender that forwards
 * is itself killed mid-drain and restarted, so a resend of what it had sent but not yet recorded as
 * sent is exercised too (JetStream drops it as a duplicate).
 *
 * Scale: OUTBOX_CRASH_COUNT (default 10,000 publishes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { unpack } from "msgpackr";
import { connect, consoleLogger } from "troupe";
import { reservePorts } from "troupe/testing";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { spawnSender } from "./helpers.js";

const COUNT = Number(process.env.OUTBOX_CRASH_COUNT ?? 10_000);

test.serial(
  "outbox - publishes made with the server down survive SIGKILL and restarts and arrive exactly once, in order",
  async (t) => {
    t.timeout(600_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-crash-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const [port] = await reservePorts(1);
    const prefix = `obc${process.pid}`;
    const env = {
      NATS_URL: `nats://127.0.0.1:${port}`,
      TROUPE_PREFIX: prefix,
      OUTBOX_DIR: dir,
      WINDOW: "16",
    };

    // 1. The server is down: the first sender writes to its outbox and is killed half-way.
    const first = spawnSender(t, { ...env, FROM: "0", TO: String(COUNT) });
    await eventually(() => first.acked.length >= COUNT / 2, 300_000, "half the publishes acknowledged");
    await first.kill();
    const ackedFirst = [...first.acked];
    t.true(ackedFirst.length < COUNT, "killed before it finished");

    // 2. Restarted (server still down): it finds the first one's entries and adds the rest.
    const rest = COUNT - ackedFirst.length;
    const second = spawnSender(t, { ...env, FROM: String(COUNT), TO: String(COUNT + rest) });
    await second.saw("done");
    const ackedSecond = [...second.acked];
    const ready = second.lines.find((l) => l.startsWith("ready ")) ?? "";
    t.true(Number(ready.slice(6)) >= ackedFirst.length, `the restart found the entries (${ready})`);

    // 3. The server starts; the sender forwards, is killed mid-drain, and a third one finishes.
    const server = await startServer(t, { port: port as number });
    const watcher = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
    t.teardown(() => watcher.close());
    let forwarded = 0;
    let atKill = 0;
    const sub = watcher.transport.subscribe(`${prefix}.evt.>`, {}, () => {
      forwarded++;
      if (forwarded === Math.floor(COUNT / 4)) {
        atKill = forwarded;
        second.child.kill("SIGKILL");
      }
    });
    t.teardown(() => sub.unsubscribe());
    await eventually(() => atKill > 0 || second.lines.includes("drained"), 300_000, "forwarding under way");
    await second.kill();
    const stream = `${prefix}_events`;
    const storedBefore = (await jetStreamQueues(watcher.transport).streamCounts(stream))?.messages ?? 0;
    const third = spawnSender(t, { ...env, FROM: "0", TO: "0" });
    await third.saw("drained");
    const pendingAtRestart = Number((third.lines.find((l) => l.startsWith("ready ")) ?? "").slice(6));

    // 4. The stream holds every acknowledged publish once, in the order they were made.
    const seen: number[] = [];
    for await (const m of jetStreamQueues(watcher.transport).list(stream)) {
      seen.push((unpack(m.data) as { i: number }).i);
    }
    const unique = new Set(seen);
    t.is(unique.size, seen.length, "no event stored twice");
    const missing = [...ackedFirst, ...ackedSecond].filter((i) => !unique.has(i));
    t.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged publishes missing`);
    const outOfOrder = seen.findIndex((v, k) => k > 0 && v <= (seen[k - 1] as number));
    t.is(outOfOrder, -1, `in order (first break at position ${outOfOrder})`);
    t.log(
      `${ackedFirst.length} + ${ackedSecond.length} acknowledged; ${seen.length} stored ` +
        `(${seen.length - ackedFirst.length - ackedSecond.length} written but not yet acknowledged at the kill); ` +
        `the second sender was killed after ${atKill || "all"} had been forwarded; the third found ` +
        `${pendingAtRestart} pending, of which ${pendingAtRestart - (seen.length - storedBefore)} were ` +
        "already stored (sent again, dropped by JetStream as duplicates)",
    );
  },
);
