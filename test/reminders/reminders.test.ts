/**
 * Durable reminders on a real nats-server: they outlive their activation, a whole-mesh downtime
 * (one catch-up firing, no backlog), and stop with `unremind`. Assertions are on counts and order;
 * waits are generous bounds, never speed assertions.
 */
import test from "ava";
import type { Mesh } from "troupe";
import { ReminderNames } from "../../runtime/reminders/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { FAST } from "../placement/helpers.js";
import { Mute, Napper, seen, Ticker } from "./fixtures/actors.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOST = { placement: FAST, jobs: false, subscriptions: false, reminders: { ackWaitMs: 3000 } } as const;

test("reminders - a one-shot reminder fires after its actor was deactivated", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Napper], HOST);
  await mesh.ref(Napper, "n1").arm("wake", Date.now() + 2000);
  await eventually(() => seen.of("n1").length === 1, 20_000, "the reminder to fire");
  const mine = seen.events.filter((e) => e.includes(":n1"));
  // Deactivated (idle) first, then woken up by the reminder: a new activation ran the turn.
  t.true(mine.indexOf("deactivated:n1") >= 0);
  t.true(mine.indexOf("deactivated:n1") < mine.indexOf("fired:n1:wake"));
  const f = seen.of("n1")[0];
  t.is(f?.name, "wake");
  t.is(f?.info.missed, 0);
  t.is(f?.info.attempt, 1);
  t.true((f?.info.firedAtMs ?? 0) >= (f?.info.dueAtMs ?? Number.POSITIVE_INFINITY));
  await sleep(1000);
  t.is(seen.of("n1").length, 1, "a one-shot reminder fires once");
});

test("reminders - after the whole mesh was down past two periods, a periodic reminder fires once, then keeps its period", async (t) => {
  const P = 1500;
  const fx = await startMesh(t);
  const first = await fx.connectAnother();
  await first.host([Ticker], HOST);
  await first.ref(Ticker, "t1").start("tick", P);
  await eventually(() => seen.of("t1").length >= 2, 20_000, "two firings");
  await first.close(); // drains the host: its reminder runner stops
  const before = seen.of("t1").length;
  await sleep(2 * P + 1000);
  t.is(seen.of("t1").length, before, "nothing fires while no host runs");
  const restartedAt = Date.now();
  const second: Mesh = await fx.connectAnother();
  await second.host([Ticker], HOST);
  await eventually(() => seen.of("t1").length >= before + 3, 30_000, "three firings after the restart");
  const after = seen.of("t1").slice(before);
  const catchUps = after.filter((f) => f.info.dueAtMs < restartedAt);
  if (catchUps.length !== 1)
    t.log("firings after the restart", { restartedAt, after: after.map((f) => f.info) });
  t.is(catchUps.length, 1, "exactly one catch-up firing");
  t.is(after[0], catchUps[0], "the catch-up comes first");
  t.true((after[0]?.info.missed ?? 0) >= 1, "it folds the missed occurrences");
  for (const f of after.slice(1)) {
    t.is(f.info.missed, 0);
    t.true(f.info.dueAtMs > (after[0]?.info.firedAtMs ?? 0), "later firings were scheduled after it");
  }
});

test("reminders - unremind stops a periodic reminder", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Ticker], HOST);
  const ref = mesh.ref(Ticker, "t2");
  const P = 300;
  await ref.start("tick", P);
  await eventually(() => seen.of("t2").length >= 2, 20_000, "two firings");
  await ref.stop("tick");
  const atStop = seen.of("t2").length;
  // Over several periods, at most the one firing already past its check when unremind ran may
  // land (whenever a busy machine lets it): the count is judged once, at the end.
  await sleep(7 * P);
  t.true(seen.of("t2").length <= atStop + 1, "no firing after unremind (but one already under way)");
});

test("reminders - a reminder of a type without receiveReminder is logged and dropped", async (t) => {
  const log = recordingLogger();
  const { mesh } = await startMesh(t, { logger: log.logger });
  await mesh.host([Mute], HOST);
  await mesh.ref(Mute, "m1").arm("nothing", Date.now());
  await eventually(
    () => log.at("error").some((e) => e.msg.includes("receiveReminder")),
    20_000,
    "the error log",
  );
  const kv = await mesh.transport.keyValue(new ReminderNames(mesh.subjects.prefix).bucket());
  await eventually(async () => (await kv.get("Mute.m1.nothing")) === null, 10_000, "the definition to go");
  t.pass();
});
