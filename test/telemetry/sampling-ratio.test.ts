/**
 * Calls that start a trace under the sampler deployments use, `parentbased_traceidratio` (here at
 * 50%, so both outcomes occur often), with nothing but the built-ins in the chains: the caller
 * decides each root with the ratio, and every hop downstream agrees. A sampled call is exported
 * whole (its call span, the turn's span, user spans, the nested call and its turn); an unsampled
 * one exports nothing, yet its turn runs in the trace (the active span is the unsampled remote
 * parent, user spans do not record, also after an await) and the call it makes carries the trace
 * on, unsampled.
 */
import test from "ava";
import { TestMesh } from "troupe/testing";
import { exportSpansToReceiver } from "../helpers/telemetry.js";
import { Leaf, Probe, type SeenSpan } from "./turn-probe.js";

const otel = exportSpansToReceiver(test, "troupe-sampling-ratio-test", {
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.5",
});

test("sampling by ratio - each root call is decided once, and every hop of it agrees", async (t) => {
  const tm = await TestMesh.start({ types: [Probe, Leaf] });
  t.teardown(() => tm.close());
  const views = await Promise.all(Array.from({ length: 60 }, (_, i) => tm.ref(Probe, `root-${i}`).look()));

  const sampled = views.filter((v) => v.active?.sampled);
  const unsampled = views.filter((v) => !v.active?.sampled);
  t.log(`${sampled.length} of ${views.length} root calls sampled at 50%`);
  // Binomial(60, 0.5): outside 10..50 once in about 10^8 runs.
  t.true(sampled.length >= 10 && unsampled.length >= 10);
  const traces = new Set(views.map((v) => v.active?.traceId));
  t.is(traces.size, views.length, "each call is a trace of its own");

  for (const v of views) {
    const active = v.active as SeenSpan;
    t.truthy(active, "the turn runs in the call's trace");
    t.is(v.nested?.traceId, active.traceId);
    t.is(v.nested?.sampled, active.sampled, "the nested call follows the decision");
    t.is(v.user.traceId, active.traceId);
    t.is(v.afterAwait.traceId, active.traceId, "after an await too");
    t.is(active.recording, active.sampled);
    t.is(v.user.recording, active.sampled);
    t.is(v.afterAwait.recording, active.sampled);
  }

  await otel.telemetry.forceFlush();
  const wanted = new Set(sampled.map((v) => v.active?.traceId));
  // Per sampled call: call Probe.look, its turn, two user spans, call Leaf.look and its turn.
  const spans = await otel.receiver.waitForSpans(
    (all) => all.filter((s) => wanted.has(s.traceId)).length >= 6 * sampled.length,
  );
  for (const v of sampled) {
    const mine = spans.filter((s) => s.traceId === v.active?.traceId);
    t.deepEqual(mine.map((s) => s.name).sort(), [
      "call Leaf.look",
      "call Probe.look",
      "process Leaf.look",
      "process Probe.look",
      "user after await",
      "user work",
    ]);
    t.is(mine.find((s) => s.name === "process Probe.look")?.spanId, v.active?.spanId);
  }
  const notWanted = new Set(unsampled.map((v) => v.active?.traceId));
  t.deepEqual(
    spans.filter((s) => notWanted.has(s.traceId)),
    [],
    "nothing of an unsampled call is exported",
  );
});
