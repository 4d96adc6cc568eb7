/**
 * Issue 12, items 2 and 3: every acknowledged turn loads again, a failed turn is always rolled back,
 * and a state that would not load is refused at save with a typed error.
 */
import test from "ava";
import { Actor, ActorMethodError, type Mesh, StateNotLoadableError, StateNotStorableError } from "troupe";
import { decodeState } from "../../runtime/messaging/state-codec.js";
import { kvKeyForId } from "../../runtime/messaging/subjects.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";

/** Deadline of every call here: a busy machine must not turn a slow turn into a failure (no timing is asserted). */
const BUSY_MACHINE_TIMEOUT_MS = 60_000;
/**
 * Calls retry what is retryable (a state write whose acknowledgement took longer than its timeout
 * on a loaded machine, StateStoreError): every call here is idempotent.
 */
const BUSY = { retry: { maxAttempts: 4 } };

interface LedgerState {
  x: number;
  tags: Record<string, boolean>;
  seen: Record<string, Record<string, true>>;
  tree: unknown;
  extra?: unknown;
}

/** Keys its state by user input, the way the docs suggest remembering processed ids. */
class Ledger extends Actor<LedgerState> {
  static initialState = (): LedgerState => ({ x: 0, tags: {}, seen: {}, tree: null });
  static options = { idleAfterMs: 60_000 };

  async setX(x: number): Promise<void> {
    this.state.x = x;
  }
  async getX(): Promise<number> {
    return this.state.x;
  }
  async tag(name: string): Promise<void> {
    this.state.tags[name] = true;
  }
  async tags(): Promise<string[]> {
    return Object.keys(this.state.tags);
  }
  async remember(list: string, from: number, count: number): Promise<number> {
    const seen = this.state.seen;
    seen[list] ??= {};
    for (let i = from; i < from + count; i++) seen[list][`id-${i}`] = true;
    return Object.keys(seen[list]).length;
  }
  async counts(): Promise<Record<string, number>> {
    return Object.fromEntries(Object.entries(this.state.seen).map(([k, v]) => [k, Object.keys(v).length]));
  }
  async nest(depth: number): Promise<void> {
    let v: unknown = "leaf";
    for (let i = 0; i < depth; i++) v = [v];
    this.state.tree = v;
  }
  async depth(): Promise<number> {
    let d = 0;
    for (let v = this.state.tree; Array.isArray(v); v = v[0]) d++;
    return d;
  }
  async setFloatMap(): Promise<void> {
    this.state.extra = new Map([[1.5, "one and a half"]]);
  }
  async failAfterSettingX(x: number): Promise<void> {
    this.state.x = x;
    throw new Error("refused after the change");
  }
}

async function storedState(mesh: Mesh, id: string): Promise<LedgerState | undefined> {
  const bucket = await mesh.transport.keyValue(mesh.subjects.stateBucket("Ledger"));
  const rec = await bucket.get(kvKeyForId(id));
  return rec ? (decodeState(rec.value) as LedgerState) : undefined;
}

/** A second host process-equivalent: a fresh activation that must load what the first one saved. */
async function reloadedOn(mesh: Mesh, connectAnother: () => Promise<Mesh>, id: string): Promise<Mesh> {
  await mesh.close();
  const other = await connectAnother();
  await other.host([Ledger]);
  await other.ref(Ledger, id, BUSY).getX();
  return other;
}

test("state integrity - a failed turn is rolled back even when the saved state holds a key named constructor", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  const ledger = mesh.ref(Ledger, "l1", BUSY);
  await ledger.setX(5);
  await ledger.tag("constructor");
  await t.throwsAsync(ledger.failAfterSettingX(99), { instanceOf: ActorMethodError });
  t.is(await ledger.getX(), 5, "the failed turn's change is gone");
  await ledger.tag("other");
  t.is((await storedState(mesh, "l1"))?.x, 5, "the next successful turn saved the rolled-back state");
  const other = await reloadedOn(mesh, connectAnother, "l1");
  t.is(await other.ref(Ledger, "l1", BUSY).getX(), 5);
  t.deepEqual(await other.ref(Ledger, "l1", BUSY).tags(), ["constructor", "other"]);
});

test("state integrity - keys constructor and prototype from user input are stored, loaded, and pollute nothing", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  for (const name of ["constructor", "prototype", "toString", "hasOwnProperty"]) {
    await mesh.ref(Ledger, "l2", BUSY).tag(name);
  }
  const other = await reloadedOn(mesh, connectAnother, "l2");
  t.deepEqual(await other.ref(Ledger, "l2", BUSY).tags(), [
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
  ]);
  t.is(({} as Record<string, unknown>).prototype, undefined);
});

test("state integrity - two maps of 50,001 processed ids are acknowledged and load again", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  const ledger = mesh.ref(Ledger, "l3", BUSY);
  t.is(await ledger.remember("orders", 0, 50_001), 50_001);
  t.is(await ledger.remember("mails", 0, 50_001), 50_001);
  const other = await reloadedOn(mesh, connectAnother, "l3");
  t.deepEqual(await other.ref(Ledger, "l3", BUSY).counts(), { orders: 50_001, mails: 50_001 });
});

test("state integrity - nesting deeper than 64 loads again; deeper than the state limit is refused at save", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  const ledger = mesh.ref(Ledger, "l4", BUSY);
  await ledger.setX(1);
  await ledger.nest(100);
  const err = await t.throwsAsync(ledger.nest(5000), { instanceOf: StateNotStorableError });
  t.is(err?.details.reason, "too-deep");
  t.is(await ledger.depth(), 100, "the refused turn was rolled back");
  const other = await reloadedOn(mesh, connectAnother, "l4");
  t.is(await other.ref(Ledger, "l4", BUSY).depth(), 100);
});

test("state integrity - a Map with a float key is refused at save, the turn rolled back, the actor still loads", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  const ledger = mesh.ref(Ledger, "l5", BUSY);
  await ledger.setX(7);
  const err = await t.throwsAsync(ledger.setFloatMap(), { instanceOf: StateNotStorableError });
  t.is(err?.details.path, "state.extra");
  t.false(err?.retryable);
  t.is((await storedState(mesh, "l5"))?.extra, undefined);
  await ledger.setX(8);
  const other = await reloadedOn(mesh, connectAnother, "l5");
  t.is(await other.ref(Ledger, "l5", BUSY).getX(), 8);
});

test("state integrity - stored bytes the state decoder refuses give StateNotLoadableError, not a hang", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  await mesh.ref(Ledger, "l6", BUSY).setX(1);
  await mesh.close();
  const { mesh: fresh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await fresh.host([Ledger]);
  const bucket = await fresh.transport.keyValue(fresh.subjects.stateBucket("Ledger"));
  await bucket.put(kvKeyForId("broken"), Uint8Array.of(0x93, 0x01)); // an array of 3 with 1 element
  const err = await t.throwsAsync(fresh.ref(Ledger, "broken", BUSY).getX(), {
    instanceOf: StateNotLoadableError,
  });
  t.is(err?.details.reason, "length-exceeds-input");
  t.regex(err?.message ?? "", /troupe state get/);
});

test("state integrity - a state larger than the server accepts is refused, rolled back, and the actor still loads", async (t) => {
  const { mesh, connectAnother } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Ledger]);
  const big = mesh.ref(Ledger, "l7", BUSY);
  // The first save of an actor creates its key, later ones update it: both paths must refuse.
  const first = await t.throwsAsync(big.remember("huge", 0, 150_000), { instanceOf: StateNotStorableError });
  t.is(first?.details.reason, "too-large");
  await big.setX(3);
  const later = await t.throwsAsync(big.remember("huge", 0, 150_000), { instanceOf: StateNotStorableError });
  t.is(later?.details.reason, "too-large");
  t.deepEqual(await big.counts(), {});
  const other = await reloadedOn(mesh, connectAnother, "l7");
  t.is(await other.ref(Ledger, "l7", BUSY).getX(), 3);
});

/** Its initial state can be made to fail once, so a roll-back to it fails. */
class Fragile extends Actor<{ n: number }> {
  static failNextInitialState = false;
  static initialState = () => {
    if (Fragile.failNextInitialState) {
      Fragile.failNextInitialState = false;
      throw new Error("initial state unavailable");
    }
    return { n: 0 };
  };
  async bump(): Promise<number> {
    return ++this.state.n;
  }
  async bumpAndFail(): Promise<void> {
    this.state.n = 1000;
    Fragile.failNextInitialState = true;
    throw new Error("turn failed");
  }
  async get(): Promise<number> {
    return this.state.n;
  }
}

test("state integrity - a turn whose roll-back fails discards the activation instead of serving unknown state", async (t) => {
  const log = recordingLogger();
  const { mesh } = await startMesh(t, { logger: log.logger, defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Fragile]);
  const ref = mesh.ref(Fragile, "f1", BUSY);
  // The first turn: nothing is saved yet, so its roll-back calls initialState(), which throws.
  const failed = ref.bumpAndFail();
  const queued = ref.get(); // waits in the mailbox behind the failing turn
  await t.throwsAsync(failed, { instanceOf: ActorMethodError, message: "turn failed" });
  t.is(await queued, 0, "the queued turn ran on a fresh activation, not on n = 1000");
  t.is(await ref.get(), 0);
  await eventually(() => log.at("error").some((e) => /could not be restored/.test(e.msg)), 10_000, "logged");
});
