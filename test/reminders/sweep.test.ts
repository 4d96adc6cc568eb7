/**
 * Reminders whose pending occurrence was lost (the setter died between writing the definition and
 * publishing occurrence 0; the stream was purged) are restored by a sweep, by one host at a time,
 * without forking the chain; `troupe ls reminders` shows each reminder's pending occurrence.
 * Real nats-server; waits are bounds on conditions, never speed assertions.
 */
import test from "ava";
import type { Mesh } from "troupe";
import type { CliIo } from "../../runtime/cli/command.js";
import { main } from "../../runtime/cli/main.js";
import { listReminders, ReminderNames, sweepReminders } from "../../runtime/reminders/index.js";
import { jetStreamQueues, type KeyValueBucket } from "../../runtime/transport/index.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { FAST } from "../placement/helpers.js";
import { type Firing, Napper, seen, Ticker } from "./fixtures/actors.js";

const GRACE_MS = 300;
/** Hosts that sweep every 200 ms (a few rounds per reminder period). */
const SWEEPING = {
  placement: FAST,
  jobs: false,
  subscriptions: false,
  reminders: { ackWaitMs: 3000, sweepEveryMs: 200, sweepGraceMs: GRACE_MS },
} as const;
const NOT_SWEEPING = { ...SWEEPING, reminders: { ackWaitMs: 3000, sweepEveryMs: 0 } } as const;

const prefixOf = (mesh: Mesh) => mesh.subjects.prefix;
const names = (mesh: Mesh) => new ReminderNames(prefixOf(mesh));
const bucket = (mesh: Mesh) => mesh.transport.keyValue(names(mesh).bucket()) as Promise<KeyValueBucket>;
const enc = new TextEncoder();

/** A definition as `remind()` writes it, with no message (a sweep judges it `GRACE_MS` after this write). */
async function orphanDefinition(
  mesh: Mesh,
  type: string,
  id: string,
  name: string,
  schedule: { firstDueAtMs: number; everyMs?: number },
): Promise<void> {
  const kv = await bucket(mesh);
  const def = { type, id, name, generation: `g-${id}`, ...schedule, setAtMs: Date.now() };
  await kv.put(names(mesh).key(type, id, name), enc.encode(JSON.stringify(def)));
}

/** Purges the reminder's messages until none is seen on its subject (a firing under way may publish the next). */
async function loseOccurrence(mesh: Mesh, type: string, id: string, name: string): Promise<void> {
  const n = names(mesh);
  const q = jetStreamQueues(mesh.transport);
  const subject = n.subject(type, id, name);
  await eventually(
    async () => {
      await q.purge(n.stream(), subject);
      return (await q.lastBySubject(n.stream(), subject, false)) === null;
    },
    20_000,
    "the pending occurrence to be gone",
  );
}

/** Firings with the same due time: a forked chain fires each occurrence twice. */
function repeatedDueTimes(firings: Firing[]): number[] {
  const due = firings.map((f) => f.info.dueAtMs);
  return due.filter((d, i) => due.indexOf(d) !== i);
}

test("reminders sweep - a definition left without its first occurrence is restored and fires, once, on one of two sweeping hosts", async (t) => {
  const fx = await startMesh(t);
  const other = await fx.connectAnother();
  await fx.mesh.host([Napper, Ticker], SWEEPING);
  await other.host([Napper, Ticker], SWEEPING);
  const P = 600;
  // As if each setter died between the two writes of remind(): a one-shot one due a moment ago,
  // a periodic one whose first occurrence was due two periods ago.
  await orphanDefinition(fx.mesh, "Napper", "orphan-1", "wake", { firstDueAtMs: Date.now() - 1000 });
  await orphanDefinition(fx.mesh, "Ticker", "orphan-2", "tick", {
    firstDueAtMs: Date.now() - 2 * P,
    everyMs: P,
  });

  await eventually(() => seen.of("orphan-1").length === 1, 20_000, "the one-shot reminder to fire");
  await eventually(() => seen.of("orphan-2").length >= 4, 30_000, "four firings of the periodic one");
  const kv = await bucket(fx.mesh);
  await eventually(
    async () => (await kv.get(names(fx.mesh).key("Napper", "orphan-1", "wake"))) === null,
    10_000,
    "the fired one-shot definition to be removed",
  );
  t.is(seen.of("orphan-1").length, 1, "the one-shot reminder fired once");
  const ticks = seen.of("orphan-2");
  t.deepEqual(repeatedDueTimes(ticks), [], "one chain: no occurrence fired twice");
  for (const [i, f] of ticks.entries()) {
    // On cadence, or later when a firing ran more than a period late on a busy machine; never sooner.
    if (i > 0) t.true(f.info.dueAtMs - (ticks[i - 1]?.info.dueAtMs ?? 0) >= P, "a period apart");
  }
  const rows = await listReminders(fx.mesh, "Ticker");
  t.is(rows.length, 1);
  t.is(rows[0]?.repairs, 1, "restored once, though two hosts sweep");
  t.is(rows[0]?.pending, 1);
});

test("reminders sweep - a periodic reminder whose occurrence was purged from the stream fires again on its cadence", async (t) => {
  const fx = await startMesh(t);
  await fx.mesh.host([Ticker], SWEEPING);
  const P = 500;
  await fx.mesh.ref(Ticker, "purged").start("tick", P);
  await eventually(() => seen.of("purged").length >= 2, 20_000, "two firings");
  await loseOccurrence(fx.mesh, "Ticker", "purged", "tick");
  const lostAt = seen.of("purged").length;
  await eventually(() => seen.of("purged").length >= lostAt + 3, 30_000, "three firings after the loss");
  // The restored chain starts with the occurrence due most recently, which may have fired already
  // (at least once: the sweep cannot tell); from then on one chain, each occurrence once.
  const lastBefore = seen.of("purged")[lostAt - 1]?.info.dueAtMs ?? 0;
  const after = seen.of("purged").slice(lostAt);
  t.true(
    (after[0]?.info.dueAtMs ?? 0) >= lastBefore,
    "restored: the occurrence due most recently, or a later one",
  );
  for (const [i, f] of after.entries()) {
    if (i > 0)
      t.true(f.info.dueAtMs > (after[i - 1]?.info.dueAtMs ?? 0), "one chain: no occurrence fired twice");
  }
  const [row] = await listReminders(fx.mesh, "Ticker");
  t.true((row?.repairs ?? 0) >= 1, "the sweep restored it");
});

test("reminders sweep - without sweeps a lost occurrence stays lost; troupe ls reminders shows it, and one sweep restores it", async (t) => {
  const fx = await startMesh(t);
  await fx.mesh.host([Napper, Ticker], NOT_SWEEPING);
  const dueAt = Date.now() + 3600_000;
  await fx.mesh.ref(Napper, "later").arm("wake", dueAt);
  await fx.mesh.ref(Ticker, "hourly").start("tick", 3600_000);

  const before = { NATS_URL: process.env.NATS_URL, TROUPE_PREFIX: process.env.TROUPE_PREFIX };
  process.env.NATS_URL = fx.url;
  process.env.TROUPE_PREFIX = prefixOf(fx.mesh);
  t.teardown(() => Object.assign(process.env, before));
  const ls = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
    t.is(await main(["ls", "reminders", ...args], io), 0, err.join("\n"));
    return out.join("\n");
  };

  const listed = JSON.parse(await ls("-o", "json")) as Awaited<ReturnType<typeof listReminders>>;
  t.deepEqual(
    listed.map((r) => [r.type, r.id, r.name, r.everyMs, r.pending, r.nextDueAtMs, r.attempt, r.repairs]),
    [
      ["Napper", "later", "wake", null, 1, dueAt, 1, 0],
      ["Ticker", "hourly", "tick", 3600_000, 1, listed[1]?.firstDueAtMs, 1, 0],
    ],
  );
  const table = await ls("--type", "Napper");
  t.regex(table, /^TYPE\s+ID\s+NAME\s+EVERY\s+NEXT\s+ATTEMPT\s+REPAIRS\n/);
  t.regex(
    table,
    new RegExp(`Napper\\s+later\\s+wake\\s+once\\s+${new Date(dueAt).toISOString()}\\s+1\\s+0$`),
  );

  await loseOccurrence(fx.mesh, "Napper", "later", "wake");
  t.regex(await ls("--type", "Napper"), /later\s+wake\s+once\s+none: lost, the next sweep restores it/);
  const kv = await bucket(fx.mesh);
  // Set a moment ago, the reminder is left to its setter (whose publish may be on its way).
  t.like(await sweepReminders(fx.mesh, kv, names(fx.mesh), "Napper", { graceMs: 3600_000 }), {
    definitions: 1,
    recent: 1,
    restored: 0,
  });
  t.like(await sweepReminders(fx.mesh, kv, names(fx.mesh), "Napper", { graceMs: 0 }), {
    definitions: 1,
    restored: 1,
  });
  t.like(await sweepReminders(fx.mesh, kv, names(fx.mesh), "Napper", { graceMs: 0 }), {
    definitions: 1,
    restored: 0,
  });
  const [row] = await listReminders(fx.mesh, "Napper");
  t.like(row, { pending: 1, nextDueAtMs: dueAt, attempt: 1, repairs: 1 });
  t.is(seen.of("later").length, 0, "restored on its time: a one-shot reminder not yet due does not fire");
});
