import test from "ava";
import {
  Actor,
  ActorMethodError,
  DeadlineExceededError,
  OverloadedError,
  UnknownActorTypeError,
  UnknownMethodError,
} from "troupe";
import { exceptPlacementUpkeep, recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { Cart, Counter, sleep } from "./fixtures.js";

test("request-reply - typed arguments and results make the round trip", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Cart]);
  const cart = mesh.ref(Cart, "cart-42");
  const addedAt = new Date("2026-01-02T03:04:05.678Z");
  t.is(await cart.add({ sku: "tea", qty: 2, addedAt }), 1);
  t.is(await cart.add({ sku: "cup", qty: 1, addedAt }), 2);
  const lines = await cart.lines();
  t.deepEqual(lines, [
    { sku: "tea", qty: 2, addedAt },
    { sku: "cup", qty: 1, addedAt },
  ]);
  t.true(lines[0]?.addedAt instanceof Date);
  t.deepEqual(await cart.total({ tea: 3.5, cup: 10 }), { total: 17, currency: "EUR" });
  t.is(await cart.checkout(), undefined);
});

test("request-reply - an actor id with any characters is its own actor", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Counter]);
  const ids = ["a", "user@example.com", "ünïcødé/ключ", "with space", "=tricky", "..", "a.b"];
  for (const [i, id] of ids.entries()) await mesh.ref(Counter, id).increment(i + 1);
  for (const [i, id] of ids.entries()) t.is(await mesh.ref(Counter, id).get(), i + 1, id);
});

test("request-reply - a thrown error arrives as a typed error with its message", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Cart]);
  const err = await t.throwsAsync(mesh.ref(Cart, "empty").checkout(), { instanceOf: ActorMethodError });
  t.is(err?.code, "TROUPE_ACTOR_METHOD_FAILED");
  t.is(err?.message, "cart empty is empty");
  t.is(err?.remoteName, "RangeError");
  t.false(err?.retryable);
});

test("request-reply - a turn that throws leaves the state as it was", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Cart]);
  const cart = mesh.ref(Cart, "c");
  await cart.add({ sku: "tea", qty: 1, addedAt: new Date(0) });
  await t.throwsAsync(cart.addThenFail({ sku: "gin", qty: 1, addedAt: new Date(0) }), {
    instanceOf: ActorMethodError,
    message: "payment refused",
  });
  t.deepEqual(
    (await cart.lines()).map((l) => l.sku),
    ["tea"],
  );
});

test("request-reply - an actor type no host serves gives UnknownActorTypeError", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Cart]);
  class Nobody extends Actor {
    async hello(): Promise<string> {
      return "hi";
    }
  }
  await t.throwsAsync(mesh.ref(Nobody, "x").hello(), { instanceOf: UnknownActorTypeError });
  await t.throwsAsync(mesh.callByName("Ghost", "x", "hello", []), { instanceOf: UnknownActorTypeError });
});

test("request-reply - an unknown method gives UnknownMethodError", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Cart]);
  const ref = mesh.ref(Cart, "c") as unknown as Record<string, () => Promise<unknown>>;
  const err = await t.throwsAsync(ref.nope?.() ?? Promise.resolve(), { instanceOf: UnknownMethodError });
  t.regex(err?.message ?? "", /Cart has no handler "nope"/);
  // Base-class members and underscore helpers are not handlers either.
  await t.throwsAsync(mesh.callByName("Cart", "c", "setTimer", ["x", 1]), { instanceOf: UnknownMethodError });
  await t.throwsAsync(mesh.callByName("Cart", "c", "__proto__", []), { instanceOf: UnknownMethodError });
  // The host still serves.
  t.is(await mesh.ref(Cart, "c").add({ sku: "tea", qty: 1, addedAt: new Date(0) }), 1);
});

test("request-reply - calling by type name works without the class", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Counter]);
  const client = await connectAnother();
  t.is(await client.callByName("Counter", "n", "increment", [41]), 41);
  t.is(await client.callByName("Counter", "n", "increment", []), 42);
});

test("request-reply - 1,000 concurrent increments give exactly 1,000 and turns never overlap", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Counter]);
  const client = await connectAnother();
  Counter.overlaps = 0;
  // 1,000 turns run one after another, each saved to KV before its reply: on a busy machine that
  // takes longer than the default 10 s deadline. The point here is the count, not the speed.
  const counter = client.ref(Counter, "hot", { timeoutMs: 120_000 });
  const results = await Promise.all(Array.from({ length: 1000 }, () => counter.increment()));
  t.is(await counter.get(), 1000);
  t.is(Counter.overlaps, 0);
  // Every increment saw a distinct value: each turn ran alone, in some order.
  t.deepEqual(
    [...results].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i + 1),
  );
});

test("request-reply - different actor ids are served concurrently", async (t) => {
  const { mesh } = await startMesh(t);
  class Gate extends Actor {
    static open: (() => void) | undefined;
    static waiting = 0;
    async wait(): Promise<string> {
      Gate.waiting++;
      await new Promise<void>((r) => {
        if (Gate.waiting === 2) {
          Gate.open?.();
          r();
        } else Gate.open = r;
      });
      return this.id;
    }
  }
  await mesh.host([Gate]);
  // Both calls can only finish if the second runs while the first is still in its turn.
  t.deepEqual(await Promise.all([mesh.ref(Gate, "a").wait(), mesh.ref(Gate, "b").wait()]), ["a", "b"]);
});

test("request-reply - tell is fire-and-forget and still runs as a turn", async (t) => {
  const log = recordingLogger();
  const { mesh } = await startMesh(t, { logger: log.logger });
  await mesh.host([Counter]);
  const c = mesh.ref(Counter, "told");
  for (let i = 0; i < 10; i++) c.tell.increment(2);
  await eventually(async () => (await c.get()) === 20, 10_000, "ten tells");
  t.is(await c.get(), 20);
  t.deepEqual(
    exceptPlacementUpkeep(log.at("warn", "error")),
    [],
    "a tell is not answered, so nothing tried to send it a reply",
  );
});

test("request-reply - a call past its deadline fails with DeadlineExceededError", async (t) => {
  const { mesh } = await startMesh(t);
  class Slow extends Actor {
    async nap(ms: number): Promise<string> {
      await sleep(ms);
      return "awake";
    }
  }
  await mesh.host([Slow]);
  const slow = mesh.ref(Slow, "s");
  const err = await t.throwsAsync(slow.with({ timeoutMs: 100 }).nap(1000), {
    instanceOf: DeadlineExceededError,
  });
  t.true(err?.retryable);
  t.is(await slow.with({ timeoutMs: 30_000 }).nap(1), "awake");
});

test("request-reply - a call whose deadline passed before its turn started is not executed", async (t) => {
  const { mesh } = await startMesh(t);
  // The blocking turn holds the actor until the late call's deadline has passed on the host too:
  // no race with the clock.
  let started = false;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  class Ledger extends Actor<{ entries: string[] }> {
    static initialState = () => ({ entries: [] as string[] });
    async block(): Promise<void> {
      started = true;
      await released;
    }
    async record(entry: string): Promise<void> {
      this.state.entries.push(entry);
    }
    async entries(): Promise<string[]> {
      return this.state.entries;
    }
  }
  const host = await mesh.host([Ledger]);
  const ledger = mesh.ref(Ledger, "l");
  const blocking = ledger.with({ timeoutMs: 60_000 }).block();
  await eventually(() => started, 10_000, "the blocking turn running");
  const LATE_MS = 100;
  const late = ledger.with({ timeoutMs: LATE_MS }).record("late");
  // The host counts the budget from when the call reached it (it travels as a relative time), so
  // its deadline passes at most LATE_MS after the call is seen waiting in the mailbox.
  await eventually(() => (host.stats().Ledger?.queued ?? 0) >= 1, 10_000, "the late call queued");
  await t.throwsAsync(late, { instanceOf: DeadlineExceededError });
  await sleep(LATE_MS);
  release();
  await blocking;
  await ledger.record("on time");
  t.deepEqual(await ledger.entries(), ["on time"]);
});

test("request-reply - a full mailbox answers OverloadedError and loses nothing it accepted", async (t) => {
  const { mesh } = await startMesh(t);
  class Narrow extends Actor<{ n: number }> {
    static initialState = () => ({ n: 0 });
    static options = { mailboxCapacity: 3 };
    async work(): Promise<number> {
      await sleep(30);
      this.state.n++;
      return this.state.n;
    }
    async count(): Promise<number> {
      return this.state.n;
    }
  }
  await mesh.host([Narrow]);
  const ref = mesh.ref(Narrow, "n");
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => ref.work()));
  const ok = outcomes.filter((o) => o.status === "fulfilled").length;
  const refused = outcomes.filter((o) => o.status === "rejected");
  t.true(refused.length > 0, "some calls are refused");
  for (const r of refused) t.true((r as PromiseRejectedResult).reason instanceof OverloadedError);
  t.is(await ref.count(), ok, "every accepted call ran exactly once");
});

test("request-reply - calls made inside a turn inherit its deadline", async (t) => {
  const { mesh } = await startMesh(t);
  class Inner extends Actor {
    async budget(): Promise<number> {
      return this.remainingMs;
    }
  }
  class Outer extends Actor {
    async delegate(): Promise<number> {
      // Asks for 60 s, but the caller gave this turn only OUTER_MS: the inner call gets at most that.
      return this.ref(Inner, "i", { timeoutMs: 60_000 }).budget();
    }
  }
  // Long enough for two activations and a nested call on a busy machine, well under the 60 s asked.
  const OUTER_MS = 20_000;
  await mesh.host([Inner, Outer]);
  const innerBudget = await mesh.ref(Outer, "o").with({ timeoutMs: OUTER_MS }).delegate();
  t.true(innerBudget > 0 && innerBudget <= OUTER_MS, `inner budget ${innerBudget}`);
  t.true((await mesh.ref(Inner, "i").with({ timeoutMs: 60_000 }).budget()) > OUTER_MS);
});

test("request-reply - a short deadline expires while a longer call to another actor is still running", async (t) => {
  const { mesh } = await startMesh(t);
  class Napper extends Actor {
    async nap(ms: number): Promise<string> {
      await sleep(ms);
      return "awake";
    }
  }
  await mesh.host([Napper]);
  const order: string[] = [];
  const long = mesh
    .ref(Napper, "long")
    .with({ timeoutMs: 20_000 })
    .nap(1500)
    .then((v) => order.push(`long ${v}`));
  const short = mesh
    .ref(Napper, "short")
    .with({ timeoutMs: 100 })
    .nap(2000)
    .catch((e: Error) => order.push(`short ${e.name}`));
  await Promise.all([long, short]);
  t.deepEqual(order, ["short DeadlineExceededError", "long awake"]);
});
