/**
 * Sampled and unsampled turns as user code sees them: in a sampled turn the active span is the
 * turn's and spans user code starts are its children; in an unsampled one they do not record,
 * nothing of the trace is exported, and the calls the turn makes carry the trace on, unsampled
 * (`traceparent` with the sampled flag off), so every hop downstream agrees.
 *
 * The sampler is the default `parentbased_always_on`; whether a call is sampled is chosen by the
 * caller's own (remote) parent context, sampled or not, as a 10% ratio sampler upstream would.
 */
import { context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from "@opentelemetry/api";
import test from "ava";
import type { InboundInterceptor } from "troupe";
import { TestMesh } from "troupe/testing";
import { exportSpansToReceiver } from "../helpers/telemetry.js";
import { Leaf, Probe } from "./turn-probe.js";

const otel = exportSpansToReceiver(test, "troupe-sampling-test");

/** A remote parent, as if an upstream service had decided (e.g. by a trace-id ratio). */
function parent(sampled: boolean): SpanContext {
  const hex = (n: number) =>
    Math.floor(Math.random() * 16 ** 8)
      .toString(16)
      .padStart(8, "0")
      .repeat(n);
  return {
    traceId: hex(4),
    spanId: hex(2),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
}

/**
 * An inbound interceptor (after the built-in tracing one) recording the `traceparent` each turn's
 * message carried, and the trace it sees as the active one while it runs.
 */
function traceparents(): {
  seen: Map<string, string | undefined>;
  activeTrace: Map<string, string | undefined>;
  interceptor: InboundInterceptor;
} {
  const seenBy = new Map<string, string | undefined>();
  const activeTrace = new Map<string, string | undefined>();
  return {
    seen: seenBy,
    activeTrace,
    interceptor: (ctx, next) => {
      seenBy.set(`${ctx.actorType}/${ctx.actorId}`, ctx.headers.get("traceparent"));
      activeTrace.set(`${ctx.actorType}/${ctx.actorId}`, trace.getActiveSpan()?.spanContext().traceId);
      return next();
    },
  };
}

test("sampling - in a sampled turn the active span is the turn's and user spans are its children", async (t) => {
  const tp = traceparents();
  const tm = await TestMesh.start({ types: [Probe, Leaf], host: { interceptors: [tp.interceptor] } });
  t.teardown(() => tm.close());
  const up = parent(true);
  const view = await context.with(trace.setSpanContext(ROOT_CONTEXT, up), () =>
    tm.ref(Probe, "sampled-1").look(),
  );
  t.truthy(view.active);
  t.true(view.active?.recording, "the turn's span records");
  t.true(view.user.recording && view.afterAwait.recording, "user spans record, also after an await");
  t.is(view.active?.traceId, up.traceId);
  t.is(view.nested?.traceId, up.traceId);
  t.true(view.nested?.sampled);

  await otel.telemetry.forceFlush();
  const spans = (
    await otel.receiver.waitForSpans(
      (all) => all.filter((s) => s.traceId === up.traceId).length >= 6, // call, turn, 2 user, nested call + turn
    )
  ).filter((s) => s.traceId === up.traceId);
  const one = (name: string) => {
    const found = spans.filter((s) => s.name === name);
    t.is(found.length, 1, name);
    return found[0];
  };
  const turn = one("process Probe.look");
  t.is(turn?.spanId, view.active?.spanId, "trace.getActiveSpan() in the turn is the turn's span");
  t.is(one("user work")?.parentSpanId, turn?.spanId);
  t.is(one("user after await")?.parentSpanId, turn?.spanId);
  t.is(one("call Leaf.look")?.parentSpanId, turn?.spanId);
  t.is(one("user work")?.scopeName, "user-code");
  t.regex(tp.seen.get("Probe/sampled-1") ?? "", new RegExp(`^00-${up.traceId}-[0-9a-f]{16}-01$`));
  t.is(
    tp.activeTrace.get("Probe/sampled-1"),
    up.traceId,
    "an interceptor after tracing runs in the turn's span",
  );
});

test("sampling - in an unsampled turn user spans do not record and nested calls carry the trace with the flag off", async (t) => {
  const tp = traceparents();
  const tm = await TestMesh.start({ types: [Probe, Leaf], host: { interceptors: [tp.interceptor] } });
  t.teardown(() => tm.close());
  const up = parent(false);
  const view = await context.with(trace.setSpanContext(ROOT_CONTEXT, up), () =>
    tm.ref(Probe, "unsampled-1").look(),
  );
  t.truthy(view.active, "the unsampled trace is the active context of the turn");
  t.is(view.active?.traceId, up.traceId);
  t.false(view.active?.sampled);
  t.false(view.active?.recording);
  t.false(view.user.recording, "a user span in an unsampled turn does not record");
  t.false(view.user.sampled);
  t.is(view.user.traceId, up.traceId, "and stays in the trace");
  t.false(view.afterAwait.recording, "nor after an await");
  t.is(view.afterAwait.traceId, up.traceId);
  t.is(view.nested?.traceId, up.traceId, "the nested call's turn is in the same trace");
  t.false(view.nested?.sampled, "unsampled there too");

  // On the wire: both hops carried a version-00 traceparent of the trace, sampled flag off.
  const flagOff = new RegExp(`^00-${up.traceId}-[0-9a-f]{16}-00$`);
  t.regex(tp.seen.get("Probe/unsampled-1") ?? "", flagOff);
  t.regex(tp.seen.get("Leaf/unsampled-1-leaf") ?? "", flagOff);
  t.is(
    tp.activeTrace.get("Probe/unsampled-1"),
    up.traceId,
    "an interceptor after tracing runs in the trace too",
  );

  // Nothing of the trace is exported: a sampled call made after it is, and the unsampled one is not.
  const marker = parent(true);
  await context.with(trace.setSpanContext(ROOT_CONTEXT, marker), () => tm.ref(Leaf, "marker-1").look());
  await otel.telemetry.forceFlush();
  await otel.receiver.waitForSpans((all) => all.some((s) => s.traceId === marker.traceId));
  t.deepEqual(
    otel.receiver.spans().filter((s) => s.traceId === up.traceId),
    [],
  );
});
