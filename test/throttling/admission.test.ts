/**
 * The synchronous admission path: a host whose inbound interceptors all carry `admit` (the
 * throttling enforcer's does) decides on a reused view of the turn without the chain's promises,
 * with the same outcomes as the chain: the same ThrottledError, counters, usage and slot release.
 * Each throttling test runs twice: the enforcer alone (the fast path) and followed by an ordinary
 * interceptor (the chain).
 */
import test from "ava";
import {
  Actor,
  type AdmissionTurn,
  admissionInterceptor,
  type InboundInterceptor,
  InterceptorError,
  MalformedMessageError,
  TerminalError,
  ThrottledError,
} from "troupe";
import { beginLinks, interceptTurn, recordHeaders, runChain } from "../../runtime/interceptors/index.js";
import type { Shares__Output } from "../../runtime/protos/index.js";
import {
  LocalEnforcer,
  type PolicyLimit,
  throttlingInterceptor,
  validatePolicy,
} from "../../runtime/throttling/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startMesh } from "../helpers/mesh.js";

class Gate extends Actor {
  static options = { stateless: true };
  /** Opens the gate a running `hold` waits at, by actor id (tests of this file run at once). */
  static opens = new Map<string, () => void>();
  async echo(x: unknown) {
    return x;
  }
  async hold() {
    await new Promise<void>((resolve) => {
      Gate.opens.set(this.id, resolve);
    });
    return "held";
  }
  async fail() {
    throw new TerminalError("handler failed");
  }
}

function enforcerWith(name: string, callers: string[], share: PolicyLimit): LocalEnforcer {
  const enforcer = new LocalEnforcer();
  const shares: Shares__Output = {
    generation: 1,
    policies: [
      {
        policy: validatePolicy({ name, match: { callers, actorTypes: ["Gate"] }, limit: share }),
        defaultShare: share,
        keys: [],
      },
    ],
  };
  enforcer.applyShares(shares);
  return enforcer;
}

/** An ordinary interceptor (no `admit`): with it the host runs the chain. */
const passThrough: InboundInterceptor = function passThrough(_ctx, next) {
  return next();
};

const MODES = { "fast path": false, chain: true } as const;

for (const [mode, chained] of Object.entries(MODES)) {
  test(`admission - a rate limit refuses alike with ThrottledError, counters and usage (${mode})`, async (t) => {
    const enforcer = enforcerWith("tiny-rate", ["noisy"], {
      ratePerSecond: 0.01,
      burst: 2,
      maxConcurrency: 0,
    });
    const throttle = throttlingInterceptor(enforcer);
    const { mesh, connectAnother } = await startMesh(t);
    await mesh.host([Gate], { interceptors: chained ? [throttle, passThrough] : [throttle] });
    const noisy = await connectAnother({ clientId: "noisy", adaptiveRate: false });
    const quiet = await connectAnother({ clientId: "quiet" });
    const ref = noisy.ref(Gate, `rate-${mode}`).with({ retry: { maxAttempts: 1 } });
    t.is(await ref.echo(1), 1);
    t.is(await ref.echo(2), 2);
    const err = await t.throwsAsync(ref.echo(3), { instanceOf: ThrottledError });
    t.is(err?.details.policy, "tiny-rate");
    t.is(err?.details.limit, 0.01);
    t.is(err?.details.remaining, 0);
    t.true((err?.retryAfterMs ?? 0) > 1000, "the next token is far away");
    t.true(err?.retryable);
    t.is(await quiet.ref(Gate, `rate-${mode}`).echo(4), 4, "another caller is not limited");
    t.deepEqual(enforcer.counters().get("tiny-rate"), { allowed: 2, refused: 1 });
    t.deepEqual(enforcer.takeUsage(), [
      { policy: "tiny-rate", key: "", allowed: 2, refused: 1, inFlight: 0 },
    ]);
  });

  test(`admission - a concurrency slot is freed when the turn settles, before its reply (${mode})`, async (t) => {
    const enforcer = enforcerWith("one-at-a-time", ["*"], { ratePerSecond: 0, burst: 0, maxConcurrency: 1 });
    const { mesh, connectAnother } = await startMesh(t);
    const throttle = throttlingInterceptor(enforcer);
    await mesh.host([Gate], { interceptors: chained ? [throttle, passThrough] : [throttle] });
    const client = await connectAnother({ clientId: "c", adaptiveRate: false });
    const ref = (id: string) => client.ref(Gate, `${id}-${mode}`).with({ retry: { maxAttempts: 1 } });
    const held = ref("a").hold();
    const start = performance.now();
    const gate = `a-${mode}`;
    while (!Gate.opens.has(gate) && performance.now() - start < 20_000)
      await new Promise((r) => setTimeout(r, 5));
    t.true(Gate.opens.has(gate), "the first turn is running");
    const err = await t.throwsAsync(ref("b").echo(1), { instanceOf: ThrottledError });
    t.is(err?.details.scope, "concurrency");
    t.is(err?.details.limit, 1);
    Gate.opens.get(gate)?.();
    t.is(await held, "held");
    // Each reply comes after its slot is free: back-to-back calls never see the previous one's slot.
    for (let i = 0; i < 20; i++) t.is(await ref("c").echo(i), i);
    await t.throwsAsync(ref("d").fail(), { instanceOf: TerminalError });
    t.is(await ref("d").echo("after a failure"), "after a failure", "a failed turn frees its slot");
    t.deepEqual(enforcer.counters().get("one-at-a-time"), { allowed: 23, refused: 1 });
    t.is(enforcer.takeUsage()[0]?.inFlight, 0);
  });
}

test("admission - the host checks calls and tells on one reused view of the turn, not a context each", async (t) => {
  const seen: { view: AdmissionTurn; kind: string; id: string; caller: string | undefined }[] = [];
  const check = admissionInterceptor(function check(turn) {
    seen.push({ view: turn, kind: turn.kind, id: turn.actorId, caller: turn.caller });
    if (turn.headers.get("x-tenant") === "banned") throw new TerminalError("banned tenant");
    return undefined;
  });
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Gate], { interceptors: [check] });
  const client = await connectAnother({
    clientId: "shop",
    interceptors: [
      (ctx, next) => {
        if (ctx.kind !== "publish" && ctx.actorId === "banned") ctx.headers["x-tenant"] = "banned";
        return next();
      },
    ],
  });
  t.is(await client.ref(Gate, "one").echo(1), 1);
  t.is(await client.ref(Gate, "two").echo(2), 2);
  client.ref(Gate, "three").tell.echo(3);
  await t.throwsAsync(client.ref(Gate, "banned").echo(4), {
    instanceOf: TerminalError,
    message: "banned tenant",
  });
  const start = performance.now();
  while (seen.length < 4 && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(seen.map(({ kind, id, caller }) => [kind, id, caller]).sort(), [
    ["call", "banned", "shop"],
    ["call", "one", "shop"],
    ["call", "two", "shop"],
    ["tell", "three", "shop"],
  ]);
  t.true(
    seen.every((s) => s.view === seen[0]?.view),
    "one view for every turn",
  );
});

test("admission - checks run outermost first; a refusal releases what earlier checks took, innermost first", (t) => {
  const log: string[] = [];
  const taking = (name: string) =>
    admissionInterceptor(function take() {
      log.push(`take ${name}`);
      return () => log.push(`release ${name}`);
    });
  const refusing = admissionInterceptor(function refuse() {
    throw new TerminalError("no");
  });
  const turn = { kind: "call", actorType: "A", actorId: "1", method: "m", caller: undefined } as const;
  const view = { ...turn, headers: { get: () => undefined, has: () => false, keys: () => [] } };
  t.throws(() => beginLinks([taking("a"), taking("b"), refusing], view), { instanceOf: TerminalError });
  t.deepEqual(log, ["take a", "take b", "release b", "release a"]);
  log.length = 0;
  const taken = beginLinks([taking("a"), taking("b")], view);
  taken?.finish(undefined, false);
  t.deepEqual(log, ["take a", "take b", "release b", "release a"]);
  const buggy = admissionInterceptor(function buggy() {
    throw new Error("bug");
  });
  const err = t.throws(() => beginLinks([buggy], view), { instanceOf: InterceptorError });
  t.is(err?.details.interceptor, "buggy");
});

test("admission - the interceptor form of a check behaves as the check: in a chain, and for runners' turns", async (t) => {
  const released: string[] = [];
  const slot = admissionInterceptor(function slot(turn) {
    if (turn.caller === "stranger") throw new TerminalError("refused");
    return () => released.push(turn.method);
  });
  const ctx = (caller: string | undefined, method: string) => ({
    kind: "job" as const,
    actorType: "A",
    actorId: "1",
    method,
    caller,
    headers: { get: () => undefined, has: () => false, keys: () => [] },
    deadline: performance.now() + 1000,
  });
  t.is(await runChain([slot], ctx("known", "m1"), async () => "ran"), "ran");
  await t.throwsAsync(
    runChain([slot], ctx("stranger", "m2"), async () => "ran"),
    { instanceOf: TerminalError },
  );
  await t.throwsAsync(
    runChain([slot], ctx("known", "m3"), async () => {
      throw new TerminalError("turn failed");
    }),
    { message: "turn failed" },
  );
  t.deepEqual(released, ["m1", "m3"]);

  // A runner's turn (interceptTurn) with only admitting interceptors: same outcomes.
  const info = (caller: string, method: string) => ({
    kind: "job" as const,
    actorType: "A",
    actorId: "1",
    method,
    headers: recordHeaders({ "troupe-caller": caller }),
    timeoutMs: 1000,
  });
  t.is(await interceptTurn([slot], info("known", "j1"), async () => "done"), "done");
  await t.throwsAsync(
    interceptTurn([slot], info("stranger", "j2"), async () => "done"),
    {
      instanceOf: TerminalError,
    },
  );
  let ran = false;
  await t.throwsAsync(
    interceptTurn([slot], info("bad\ncaller", "j3"), async () => {
      ran = true;
    }),
    { instanceOf: MalformedMessageError },
  );
  t.false(ran, "an unfit caller is refused before any check, as by the chain");
  t.deepEqual(released, ["m1", "m3", "j1"]);
  const throwingRelease = admissionInterceptor(() => () => {
    throw new Error("a release that throws is ignored");
  });
  t.is(await interceptTurn([throwingRelease], info("known", "j4"), async () => "kept"), "kept");
  t.is(await runChain([throwingRelease], ctx("known", "m4"), async () => "kept"), "kept");
});

test("admission - a tell over the limit is handed back to its sender, which logs it dropped with the ThrottledError", async (t) => {
  const enforcer = enforcerWith("tell-rate", ["teller"], {
    ratePerSecond: 0.01,
    burst: 1,
    maxConcurrency: 0,
  });
  enforcer.applyShares({
    generation: 2,
    policies: [
      {
        policy: validatePolicy({
          name: "tell-rate",
          match: { callers: ["teller"], actorTypes: ["Gate"], hops: ["tell"] },
          limit: { ratePerSecond: 0.01, burst: 1 },
        }),
        defaultShare: { ratePerSecond: 0.01, burst: 1, maxConcurrency: 0 },
        keys: [],
      },
    ],
  });
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Gate], { interceptors: [throttlingInterceptor(enforcer)] });
  const log = recordingLogger();
  const teller = await connectAnother({ clientId: "teller", logger: log.logger });
  teller.ref(Gate, "told").tell.echo(1);
  teller.ref(Gate, "told").tell.echo(2);
  const dropped = () => log.at("warn").find((e) => e.msg === "tell dropped");
  const start = performance.now();
  while (!dropped() && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 10));
  const err = dropped()?.fields?.err;
  t.true(err instanceof ThrottledError, "the sender learns why its tell was dropped");
  t.is((err as ThrottledError).details.policy, "tell-rate");
  t.deepEqual(enforcer.counters().get("tell-rate"), { allowed: 1, refused: 1 });
});
