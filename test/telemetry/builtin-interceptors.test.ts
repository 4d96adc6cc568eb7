import { trace } from "@opentelemetry/api";
import test from "ava";
import {
  Actor,
  callMetrics,
  type InboundInterceptor,
  inboundTracing,
  type OutboundInterceptor,
  outboundTracing,
} from "troupe";
import { TestMesh } from "troupe/testing";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";

// Tracing is the first built-in interceptor of both chains: these tests check where it sits, that
// the application's interceptors run inside its spans, and that it can be moved or left out. Every
// assertion is on spans exported by the real SDK and decoded by a real OTLP receiver.
const otel = exportSpansToReceiver(test, "troupe-builtin-interceptors-test");
const tracer = trace.getTracer("builtin-interceptors-test");

class Echo extends Actor {
  static options = { stateless: true };
  async echo(x: unknown) {
    return x;
  }
}

/** Interceptors that each record one span of their own, named `name`, carrying the actor id. */
function spanning(name: string): { out: OutboundInterceptor; inb: InboundInterceptor } {
  const record = (actorId: string) =>
    tracer.startSpan(`${name} ${actorId}`, { attributes: { "troupe.actor.id": actorId } }).end();
  return {
    out: (ctx, next) => {
      if (ctx.kind !== "publish") record(ctx.actorId);
      return next();
    },
    inb: (ctx, next) => {
      record(ctx.actorId);
      return next();
    },
  };
}

async function spansOf(actorId: string, names: string[]): Promise<DecodedSpan[]> {
  await otel.telemetry.forceFlush();
  const mine = (all: DecodedSpan[]) => all.filter((s) => s.attributes["troupe.actor.id"] === actorId);
  return mine(
    await otel.receiver.waitForSpans((all) => names.every((n) => mine(all).some((s) => s.name === n))),
  );
}

function one(spans: DecodedSpan[], name: string): DecodedSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one span "${name}", got ${found.length}`);
  return found[0] as DecodedSpan;
}

test("builtin interceptors - by default tracing is outermost: the application's interceptors run inside the call's and the turn's spans", async (t) => {
  const user = spanning("user");
  const tm = await TestMesh.start({
    types: [Echo],
    connect: { interceptors: [user.out] },
    host: { interceptors: [user.inb] },
  });
  t.teardown(() => tm.close());
  const host = tm.hosts[0];
  t.deepEqual(host?.mesh.outbound, [outboundTracing, callMetrics, user.out]);
  t.deepEqual(host?.host.inbound, [inboundTracing, user.inb]);

  t.is(await tm.ref(Echo, "inside-1").echo(1), 1);
  const spans = await spansOf("inside-1", ["call Echo.echo", "process Echo.echo", "user inside-1"]);
  const call = one(spans, "call Echo.echo");
  const turn = one(spans, "process Echo.echo");
  const users = spans.filter((s) => s.name === "user inside-1");
  t.is(users.length, 2, "one outbound, one inbound");
  t.is(turn.parentSpanId, call.spanId);
  t.deepEqual(users.map((s) => s.parentSpanId).sort(), [call.spanId, turn.spanId].sort());
  t.true(users.every((s) => s.traceId === call.traceId));
});

test("builtin interceptors - a built-in listed by the application runs where it is listed", async (t) => {
  const user = spanning("before");
  const tm = await TestMesh.start({
    types: [Echo],
    connect: { interceptors: [user.out, outboundTracing] },
    host: { interceptors: [user.inb, inboundTracing] },
  });
  t.teardown(() => tm.close());
  const host = tm.hosts[0];
  t.deepEqual(host?.mesh.outbound, [callMetrics, user.out, outboundTracing], "unlisted built-ins first");
  t.deepEqual(host?.host.inbound, [user.inb, inboundTracing]);

  t.is(await tm.ref(Echo, "before-1").echo(2), 2);
  const spans = await spansOf("before-1", ["call Echo.echo", "process Echo.echo", "before before-1"]);
  const call = one(spans, "call Echo.echo");
  const turn = one(spans, "process Echo.echo");
  t.is(turn.parentSpanId, call.spanId, "the trace still crosses the wire");
  for (const s of spans.filter((x) => x.name === "before before-1")) {
    t.not(s.parentSpanId, call.spanId, "outside the call's span");
    t.not(s.parentSpanId, turn.spanId, "outside the turn's span");
  }
});

test("builtin interceptors - builtinInterceptors: false leaves tracing out of both chains", async (t) => {
  const tm = await TestMesh.start({
    types: [Echo],
    connect: { builtinInterceptors: false },
    host: { builtinInterceptors: false },
  });
  t.teardown(() => tm.close());
  const host = tm.hosts[0];
  t.deepEqual(host?.mesh.outbound, []);
  t.deepEqual(host?.host.inbound, []);

  t.is(await tm.ref(Echo, "quiet-1").echo(3), 3);
  // Ended after the call: once it is exported, so would any span of the call have been.
  tracer.startSpan("marker", { attributes: { "troupe.actor.id": "quiet-1" } }).end();
  const spans = await spansOf("quiet-1", ["marker"]);
  t.deepEqual(
    spans.map((s) => s.name),
    ["marker"],
  );
});
