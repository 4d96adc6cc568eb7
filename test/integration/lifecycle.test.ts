import { Kvm } from "@nats-io/kv";
import { connect as natsConnect } from "@nats-io/transport-node";
import test from "ava";
import { Actor, StaleActivationError } from "troupe";
import { encode } from "../../runtime/messaging/codec.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { sleep } from "./fixtures.js";

class Sessions extends Actor<{ visits: number }> {
  static initialState = () => ({ visits: 0 });
  static options = { idleAfterMs: 150 };
  static activations = 0;
  static deactivations = 0;
  override async onActivate(): Promise<void> {
    Sessions.activations++;
  }
  override async onDeactivate(): Promise<void> {
    Sessions.deactivations++;
  }
  async visit(): Promise<number> {
    return ++this.state.visits;
  }
}

test("lifecycle - an idle actor deactivates, and reactivation restores its state", async (t) => {
  const { mesh } = await startMesh(t);
  const host = await mesh.host([Sessions]);
  Sessions.activations = 0;
  Sessions.deactivations = 0;
  const s = mesh.ref(Sessions, "u1");
  t.is(await s.visit(), 1);
  t.is(await s.visit(), 2);
  t.is(Sessions.activations, 1);
  await eventually(() => host.stats().Sessions?.activations === 0, 10_000, "idle deactivation");
  t.is(Sessions.deactivations, 1);
  t.is(await s.visit(), 3, "state survived deactivation");
  t.is(Sessions.activations, 2);
});

test("lifecycle - drain deactivates every activation and saves its state", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  class Journal extends Actor<{ lines: string[] }> {
    static initialState = () => ({ lines: [] as string[] });
    async write(line: string): Promise<void> {
      this.state.lines.push(line);
    }
    override async onDeactivate(): Promise<void> {
      this.state.lines.push("closed");
    }
    async read(): Promise<string[]> {
      return this.state.lines;
    }
  }
  const host = await mesh.host([Journal]);
  await mesh.ref(Journal, "j").write("hello");
  await host.drain();
  t.is(host.status, "stopped");
  const other = await connectAnother();
  await other.host([Journal]);
  t.deepEqual(await other.ref(Journal, "j").read(), ["hello", "closed"]);
});

test("lifecycle - a stale activation's save is rejected and it stands down", async (t) => {
  const { mesh, url } = await startMesh(t);
  class Wallet extends Actor<{ balance: number }> {
    static initialState = () => ({ balance: 0 });
    async deposit(n: number): Promise<number> {
      this.state.balance += n;
      return this.state.balance;
    }
  }
  await mesh.host([Wallet]);
  const wallet = mesh.ref(Wallet, "w");
  t.is(await wallet.deposit(10), 10);
  // Another writer (as a second activation would) moves the stored revision on.
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(nc).open(mesh.subjects.stateBucket("Wallet"));
  await kv.put("w", encode({ balance: 1000 }));
  // The stale activation's write is refused: the caller learns its deposit was not persisted.
  const err = await t.throwsAsync(wallet.deposit(5), { instanceOf: StaleActivationError });
  t.true(err?.retryable);
  // The activation stood down; the next call activates afresh from the stored state.
  t.is(await wallet.deposit(1), 1001);
});

test("lifecycle - timers run as turns of the activation", async (t) => {
  const { mesh } = await startMesh(t);
  const EVERY_MS = 10;
  class Ticker extends Actor<{ ticks: number }> {
    static initialState = () => ({ ticks: 0 });
    async start(): Promise<void> {
      this.setTimer(
        "tick",
        EVERY_MS,
        () => {
          this.state.ticks++;
          if (this.state.ticks === 5) this.clearTimer("tick");
        },
        { everyMs: EVERY_MS },
      );
    }
    async ticks(): Promise<number> {
      return this.state.ticks;
    }
  }
  await mesh.host([Ticker]);
  const ticker = mesh.ref(Ticker, "t");
  await ticker.start();
  await eventually(async () => (await ticker.ticks()) === 5, 10_000, "five ticks");
  // A negative check, so a busy machine can only make it pass: ten intervals in which a timer
  // still armed would have ticked.
  await sleep(10 * EVERY_MS);
  t.is(await ticker.ticks(), 5, "the timer stopped when cleared");
});

test("lifecycle - ticks queued behind a turn that clears their timer never run", async (t) => {
  const { mesh } = await startMesh(t);
  class Clearer extends Actor<{ ticks: number }> {
    static initialState = () => ({ ticks: 0 });
    async start(): Promise<void> {
      this.setTimer("tick", 1, () => void this.state.ticks++, { everyMs: 1 });
    }
    /** Holds the mailbox while the timer keeps firing (its ticks queue behind), then clears it. */
    async holdThenClear(holdMs: number): Promise<number> {
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      this.clearTimer("tick");
      return this.state.ticks;
    }
    async ticks(): Promise<number> {
      return this.state.ticks;
    }
  }
  await mesh.host([Clearer]);
  const ref = mesh.ref(Clearer, "c");
  await ref.start();
  const atClear = await ref.holdThenClear(50);
  // The ticks queued during the hold sit in the mailbox before this call: none of them may run.
  t.is(await ref.ticks(), atClear);
});

test("lifecycle - state a failed onActivate could not load is reported, and the next call retries", async (t) => {
  const { mesh } = await startMesh(t);
  class Fragile extends Actor<{ n: number }> {
    static initialState = () => ({ n: 0 });
    static failures = 1;
    override async onActivate(): Promise<void> {
      if (Fragile.failures-- > 0) throw new Error("warming up");
    }
    async ping(): Promise<string> {
      return "pong";
    }
  }
  await mesh.host([Fragile]);
  const f = mesh.ref(Fragile, "f");
  await t.throwsAsync(f.ping(), { message: "warming up" });
  t.is(await f.ping(), "pong");
});
