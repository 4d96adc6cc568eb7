/**
 * Issue 12, item 4: whatever a handler throws, its caller gets a prompt typed reply. Every call
 * here has a deadline of ten minutes and every job a timeout of ten minutes: a reply that is never
 * sent shows up as the test's own timeout (or as HostUnresponsiveError once keepalives stop), never
 * as a pass.
 */
import test from "ava";
import { Actor, ActorMethodError, type ErrorDetails, type Mesh, TerminalError, TroupeError } from "troupe";
import { JobDeadLetteredError } from "../../runtime/jobs/index.js";
import { limitRepeats } from "../../runtime/log.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";

/** Deadline of every call here: a busy machine must not turn a slow turn into a failure (no timing is asserted). */
const BUSY_MACHINE_TIMEOUT_MS = 60_000;
/**
 * Calls retry what is retryable (a state write whose acknowledgement took longer than its timeout
 * on a loaded machine, StateStoreError): every call here is idempotent.
 */
const BUSY = { retry: { maxAttempts: 4 } };

const LONG = 10 * 60_000;

function cyclic(): ErrorDetails {
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  return { loop } as unknown as ErrorDetails;
}

/** What each kind of handler throws. */
const THROWN: Record<string, () => unknown> = {
  "null-prototype object": () => Object.create(null),
  "object whose toString throws": () => ({
    toString() {
      throw new Error("no string for you");
    },
  }),
  "Error whose message getter throws": () => {
    const e = new Error("hidden");
    Object.defineProperty(e, "message", {
      get() {
        throw new Error("no message for you");
      },
    });
    return e;
  },
  "Error whose name getter throws": () => {
    const e = new RangeError("named");
    Object.defineProperty(e, "name", {
      get() {
        throw new Error("no name");
      },
    });
    return e;
  },
  "Proxy whose every trap throws": () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
        ownKeys() {
          throw new Error("trap");
        },
      },
    ),
  undefined: () => undefined,
  null: () => null,
  Symbol: () => Symbol("odd"),
  function: () => function named() {},
  "huge BigInt": () => 10n ** 5000n,
  "Error with a cyclic cause": () => new Error("with cause", { cause: cyclic() }),
};

/** TroupeErrors whose details cannot be encoded: they keep their class and code. */
const TROUPE_THROWN: Record<string, () => TroupeError> = {
  "TerminalError with cyclic details": () => new TerminalError("cyclic details", { details: cyclic() }),
  "TerminalError with a huge BigInt detail": () =>
    new TerminalError("huge detail", { details: { n: 10n ** 400n } as unknown as ErrorDetails }),
};

let throwing: () => unknown = () => undefined;

class Thrower extends Actor<{ turns: number }> {
  static initialState = () => ({ turns: 0 });
  async fail(kind: string): Promise<void> {
    this.state.turns++;
    const make = THROWN[kind] ?? TROUPE_THROWN[kind];
    if (!make) throw new Error(`unknown kind ${kind}`);
    throw make();
  }
  /** A thenable whose `then` throws before it takes the callbacks. */
  failThen(): PromiseLike<void> {
    return {
      // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the point of this test
      then() {
        throw throwing();
      },
    };
  }
  /** A thenable that reports its outcome three times, then throws. */
  chatty(): PromiseLike<number> {
    return {
      // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the point of this test
      then(ok?: ((v: number) => unknown) | null, fail?: ((e: unknown) => unknown) | null) {
        ok?.(1);
        ok?.(2);
        fail?.(new Error("late"));
        throw new Error("and then threw");
      },
    } as PromiseLike<number>;
  }
  async turns(): Promise<number> {
    return this.state.turns;
  }
}

async function hosted(t: Parameters<typeof startMesh>[0]) {
  const log = recordingLogger();
  // Every failure line written as it happens: these tests read each one's description, not how a
  // flood of them is aggregated (test/integration/warning-flood.test.ts covers that).
  limitRepeats(log.logger, { everyMs: 0 });
  const { mesh } = await startMesh(t, { logger: log.logger, defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Thrower]);
  return { mesh, log };
}

function call(mesh: Mesh, id: string, kind: string) {
  return mesh.ref(Thrower, id, { ...BUSY, timeoutMs: LONG }).fail(kind);
}

test("odd throws - every odd thrown value is a prompt ActorMethodError for a call", async (t) => {
  const { mesh } = await hosted(t);
  for (const kind of Object.keys(THROWN)) {
    const err = await t.throwsAsync(call(mesh, "c1", kind), { instanceOf: ActorMethodError }, kind);
    t.is(typeof err?.message, "string", kind);
    t.is(typeof err?.remoteName, "string", kind);
  }
  // Failed turns were rolled back; the actor still serves.
  t.is(await mesh.ref(Thrower, "c1", BUSY).turns(), 0);
});

test("odd throws - descriptions are safe and say what was thrown", async (t) => {
  const { mesh } = await hosted(t);
  const described = async (kind: string) => (await t.throwsAsync(call(mesh, "c2", kind)))?.message;
  t.is(await described("null-prototype object"), "an object without a prototype");
  t.is(await described("Error whose message getter throws"), "an Error whose message cannot be read");
  t.is(await described("undefined"), "undefined");
  t.is(await described("Symbol"), "Symbol(odd)");
  t.regex((await described("huge BigInt")) ?? "", /^a BigInt of about \d+ bits$/);
  t.is(await described("Error with a cyclic cause"), "with cause");
});

test("odd throws - a TroupeError whose details cannot be encoded keeps its class, with safe details", async (t) => {
  const { mesh } = await hosted(t);
  const cyc = await t.throwsAsync(call(mesh, "c3", "TerminalError with cyclic details"), {
    instanceOf: TerminalError,
    message: "cyclic details",
  });
  t.is(cyc?.details.loop, "[Object]");
  const big = await t.throwsAsync(call(mesh, "c3", "TerminalError with a huge BigInt detail"), {
    instanceOf: TerminalError,
  });
  t.regex(String(big?.details.n), /^a BigInt of about \d+ bits$/);
});

test("odd throws - a thenable whose then throws an odd value fails the call promptly", async (t) => {
  const { mesh } = await hosted(t);
  throwing = () => Object.create(null);
  await t.throwsAsync(mesh.ref(Thrower, "c4", { ...BUSY, timeoutMs: LONG }).failThen(), {
    instanceOf: ActorMethodError,
  });
  t.is(await mesh.ref(Thrower, "c4", BUSY).turns(), 0);
});

test("odd throws - a tell that throws an odd value is logged as a typed error and the actor goes on", async (t) => {
  const { mesh, log } = await hosted(t);
  const kinds = Object.keys(THROWN);
  for (const kind of kinds) mesh.ref(Thrower, "t1", BUSY).tell.fail(kind);
  await eventually(
    () => log.entries.filter((e) => e.msg === "tell failed").length === kinds.length,
    60_000,
    "every tell's failure logged",
  );
  for (const e of log.entries.filter((x) => x.msg === "tell failed")) {
    const err = e.fields?.err;
    t.true(err instanceof TroupeError);
    t.is(typeof (err as Error | undefined)?.message, "string");
  }
  t.is(await mesh.ref(Thrower, "t1", BUSY).turns(), 0);
});

test("odd throws - a job whose handler throws an odd value fails promptly, not at its timeout", async (t) => {
  const { mesh } = await hosted(t);
  for (const kind of ["null-prototype object", "Error whose message getter throws", "Symbol"]) {
    const job = await mesh.enqueue(Thrower, "j1", { maxAttempts: 1, timeoutMs: LONG }).fail(kind);
    const err = await t.throwsAsync(
      job.result({ timeoutMs: LONG }),
      { instanceOf: JobDeadLetteredError },
      kind,
    );
    t.true((err as JobDeadLetteredError | undefined)?.remote instanceof ActorMethodError, kind);
  }
});

test("odd throws - a thenable that reports twice and then throws settles its turn once", async (t) => {
  const { mesh, log } = await hosted(t);
  const ref = mesh.ref(Thrower, "c5", { ...BUSY, timeoutMs: LONG });
  t.is(await ref.chatty(), 1);
  t.is(await ref.chatty(), 1);
  t.is(await ref.turns(), 0);
  // A second settle of a turn would reply (and log "call failed") for the late failure reports.
  t.deepEqual(
    log.entries.filter((e) => e.fields?.actorId === "c5" && e.level !== "debug").map((e) => e.msg),
    [],
  );
});
