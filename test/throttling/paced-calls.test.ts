/**
 * A call refused with ThrottledError engages the type's adaptive rate (on by default), whichever
 * way the call went out: no outbound interceptor with work (the call's own settlement sees the
 * refusal), the built-ins' synchronous links (tracing or metrics would be there), or a chain with
 * an application's interceptor (then what the chain settles with decides: an interceptor that
 * turns the refusal into a value engages nothing). `adaptiveRate: false` never engages it.
 */
import test from "ava";
import { Actor, type OutboundInterceptor, ThrottledError } from "troupe";
import { resilienceOf } from "../../runtime/resilience/breakers.js";
import { LocalEnforcer, throttlingInterceptor, validatePolicy } from "../../runtime/throttling/index.js";
import { startMesh } from "../helpers/mesh.js";

class Meter extends Actor {
  static options = { stateless: true };
  async read() {
    return 1;
  }
}

/** A host enforcer that admits one call of each client and then refuses (no refill to speak of). */
function tinyLimit(clients: readonly string[]): LocalEnforcer {
  const enforcer = new LocalEnforcer();
  const share = { ratePerSecond: 0.001, burst: 1, maxConcurrency: 0 };
  enforcer.applyShares({
    generation: 1,
    policies: clients.map((client) => ({
      policy: validatePolicy({
        name: `tiny-${client}`,
        match: { callers: [client], actorTypes: ["Meter"] },
        limit: share,
      }),
      defaultShare: share,
      keys: [],
    })),
  });
  return enforcer;
}

const passThrough: OutboundInterceptor = function passThrough(_ctx, next) {
  return next();
};
const swallowThrottle: OutboundInterceptor = function swallowThrottle(_ctx, next) {
  return next().catch((err: unknown) => (err instanceof ThrottledError ? -1 : Promise.reject(err)));
};

test("paced calls - a ThrottledError engages the adaptive rate on each outbound path, as the call settles", async (t) => {
  const cases = [
    { clientId: "bare", options: {}, engages: true, settles: "refused" },
    { clientId: "chained", options: { interceptors: [passThrough] }, engages: true, settles: "refused" },
    { clientId: "swallowing", options: { interceptors: [swallowThrottle] }, engages: false, settles: -1 },
    { clientId: "unpaced", options: { adaptiveRate: false }, engages: false, settles: "refused" },
  ];
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Meter], {
    interceptors: [throttlingInterceptor(tinyLimit(cases.map((c) => c.clientId)))],
  });
  for (const c of cases) {
    const client = await connectAnother({ clientId: c.clientId, ...c.options });
    const ref = client.ref(Meter, `m-${c.clientId}`);
    t.is(await ref.read(), 1, `${c.clientId}: the burst admits the first call`);
    t.is(
      resilienceOf(client).engagedRate("Meter"),
      undefined,
      `${c.clientId}: nothing paced before a refusal`,
    );
    const second = await ref
      .read()
      .catch((err: unknown) => (err instanceof ThrottledError ? "refused" : err));
    t.is(second, c.settles, `${c.clientId}: the second call`);
    t.is(
      resilienceOf(client).engagedRate("Meter") !== undefined,
      c.engages,
      `${c.clientId}: the refusal ${c.engages ? "engaged" : "did not engage"} the adaptive rate`,
    );
  }
});
