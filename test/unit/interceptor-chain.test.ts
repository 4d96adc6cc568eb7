/**
 * The chain machinery behind the built-in interceptors: a chain of nothing but idle built-ins is
 * skipped like an empty one (the untraced hot path), an idle link is passed over while the others
 * run, and the built-ins a user's list does not name go first.
 */
import test from "ava";
import type { Idling, Interceptor } from "../../runtime/interceptors/index.js";
import { chainIdle, observersOf, runChain, withBuiltins } from "../../runtime/interceptors/index.js";

type Ctx = { log: string[] };

function builtin(name: string, isIdle: () => boolean): Interceptor<Ctx> & Idling {
  const fn: Interceptor<Ctx> = (ctx, next) => {
    ctx.log.push(name);
    return next();
  };
  return Object.assign(fn, { idle: isIdle });
}

const user: Interceptor<Ctx> = (ctx, next) => {
  ctx.log.push("user");
  return next();
};

test("interceptor chain - empty or only idle built-ins is idle; an active built-in or any user link is not", (t) => {
  const idle = builtin("tracing", () => true);
  const active = builtin("metrics", () => false);
  t.true(chainIdle([]));
  t.true(chainIdle([idle, idle]));
  t.false(chainIdle([idle, active]));
  t.false(chainIdle([idle, user]));
});

test("interceptor chain - an idle built-in is passed over; the rest run in order, then the hop", async (t) => {
  let tracing = true;
  const chain = [builtin("tracing", () => tracing), user, builtin("metrics", () => false)];
  const ctx: Ctx = { log: [] };
  t.is(await runChain(chain, ctx, async () => ctx.log.push("hop")), 3);
  t.deepEqual(ctx.log, ["user", "metrics", "hop"]);
  tracing = false;
  const again: Ctx = { log: [] };
  await runChain(chain, again, async () => again.log.push("hop"));
  t.deepEqual(again.log, ["tracing", "user", "metrics", "hop"], "decided per hop");
});

test("interceptor chain - built-ins the list does not name go first; named ones stay where named", (t) => {
  const tracing = builtin("tracing", () => true);
  const metrics = builtin("metrics", () => true);
  t.deepEqual(withBuiltins([tracing, metrics], [user], true), [tracing, metrics, user]);
  t.deepEqual(withBuiltins([tracing, metrics], [user, tracing], true), [metrics, user, tracing]);
  t.deepEqual(withBuiltins([tracing, metrics], [user], false), [user]);
  t.deepEqual(withBuiltins([tracing, metrics], [metrics], false), [metrics]);
  t.deepEqual(observersOf([user, metrics, tracing]), [metrics, tracing]);
});
