/**
 * Synchronous links (interceptors/sync-links.ts): a chain whose links with work are built-ins
 * (observers) and admission checks runs them around the hop without the chain's promises, and
 * means the same as the chain: begins and checks in order, ends and releases innermost first with
 * the hop's outcome, a refusal ending what began before it. A user interceptor anywhere makes the
 * whole chain run as a chain.
 */
import test from "ava";
import { InterceptorError, TerminalError } from "../../runtime/errors.js";
import {
  admissionInterceptor,
  beginLinks,
  CHECKS_ONLY,
  type Interceptor,
  NOT_SYNCHRONOUS,
  OBSERVED,
  type Observer,
  runChain,
  synchronousNow,
} from "../../runtime/interceptors/index.js";

interface Ctx {
  log: string[];
  kind: "call";
  actorType: string;
  actorId: string;
  method: string;
  caller: undefined;
  headers: { get: () => undefined; has: () => false; keys: () => string[] };
}

const ctxOf = (log: string[]): Ctx => ({
  log,
  kind: "call",
  actorType: "A",
  actorId: "1",
  method: "m",
  caller: undefined,
  headers: { get: () => undefined, has: () => false, keys: () => [] },
});

/** A built-in: its interceptor form and its observer form log alike. */
function builtin(name: string, log: string[], isIdle = () => false): Interceptor<Ctx> {
  const observe: Observer<Ctx> = {
    begin: () => {
      log.push(`begin ${name}`);
      return name;
    },
    end: (token, error, failed) => {
      log.push(`end ${String(token)} ${failed ? `failed ${(error as Error).message}` : "ok"}`);
    },
  };
  const form: Interceptor<Ctx> = (ctx, next) => {
    const token = observe.begin(ctx);
    return next().then(
      (v) => {
        observe.end(token, undefined, false);
        return v;
      },
      (err: unknown) => {
        observe.end(token, err, true);
        throw err;
      },
    );
  };
  return Object.assign(form, { idle: isIdle, observe });
}

function check(name: string, log: string[], refuse = false): Interceptor<Ctx> {
  return admissionInterceptor(function admit() {
    log.push(`admit ${name}`);
    if (refuse) throw new TerminalError(`${name} refused`);
    return () => log.push(`release ${name}`);
  }) as unknown as Interceptor<Ctx>;
}

test("sync links - built-ins and checks only: synchronous; an idle built-in is passed over; a user link is not", (t) => {
  const log: string[] = [];
  const user: Interceptor<Ctx> = (_ctx, next) => next();
  t.is(synchronousNow([builtin("tracing", log), check("rate", log)]), OBSERVED);
  t.is(synchronousNow([builtin("tracing", log, () => true), check("rate", log)]), CHECKS_ONLY);
  t.is(synchronousNow([builtin("tracing", log), user]), NOT_SYNCHRONOUS);
});

test("sync links - begins and checks run in chain order; ends and releases innermost first with the outcome", async (t) => {
  const log: string[] = [];
  const chain = [builtin("tracing", log), check("rate", log), builtin("metrics", log)];
  t.is(await runChain(chain, ctxOf(log), async () => log.push("hop")), 4);
  t.deepEqual(log, [
    "begin tracing",
    "admit rate",
    "begin metrics",
    "hop",
    "end metrics ok",
    "release rate",
    "end tracing ok",
  ]);
  log.length = 0;
  await t.throwsAsync(
    runChain(chain, ctxOf(log), () => Promise.reject(new Error("boom"))),
    { message: "boom" },
  );
  t.deepEqual(log, [
    "begin tracing",
    "admit rate",
    "begin metrics",
    "end metrics failed boom",
    "release rate",
    "end tracing failed boom",
  ]);
});

test("sync links - a refusal ends what began before it with the refusal, and the rest never runs", async (t) => {
  const log: string[] = [];
  const chain = [builtin("tracing", log), check("rate", log, true), builtin("metrics", log)];
  let ran = false;
  await t.throwsAsync(
    runChain(chain, ctxOf(log), async () => {
      ran = true;
    }),
    { instanceOf: TerminalError, message: "rate refused" },
  );
  t.false(ran);
  t.deepEqual(log, ["begin tracing", "admit rate", "end tracing failed rate refused"]);
});

test("sync links - the same outcome and order as the chain form of the same links", async (t) => {
  const viaSync: string[] = [];
  const viaChain: string[] = [];
  const user: Interceptor<Ctx> = (_ctx, next) => next();
  await t.throwsAsync(
    runChain([builtin("tracing", viaSync), check("rate", viaSync, true)], ctxOf(viaSync), async () => 1),
  );
  // A user link forces the chain form; it logs nothing itself.
  await t.throwsAsync(
    runChain(
      [builtin("tracing", viaChain), check("rate", viaChain, true), user],
      ctxOf(viaChain),
      async () => 1,
    ),
  );
  t.deepEqual(viaSync, viaChain);
});

test("sync links - a check that throws something untyped refuses with InterceptorError naming it", (t) => {
  const log: string[] = [];
  const buggy = admissionInterceptor(function buggy() {
    throw new Error("bug");
  }) as unknown as Interceptor<Ctx>;
  const err = t.throws(() => beginLinks([builtin("tracing", log), buggy], ctxOf(log)), {
    instanceOf: InterceptorError,
  });
  t.is(err?.details.interceptor, "buggy");
  t.deepEqual(log, ["begin tracing", "end tracing failed interceptor buggy failed: bug"]);
});

test("sync links - an observer's end that throws does not change the hop's outcome nor stop the others", async (t) => {
  const log: string[] = [];
  const throwing = Object.assign((_ctx: Ctx, next: () => Promise<unknown>) => next(), {
    idle: () => false,
    observe: {
      begin: () => undefined,
      end: () => {
        throw new Error("end failed");
      },
    },
  });
  t.is(await runChain([builtin("tracing", log), throwing], ctxOf(log), async () => "value"), "value");
  t.deepEqual(log, ["begin tracing", "end tracing ok"]);
});
