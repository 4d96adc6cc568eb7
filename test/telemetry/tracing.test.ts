import { setImmediate as nextTurn } from "node:timers/promises";
import { ProxyTracerProvider, trace } from "@opentelemetry/api";
import test from "ava";
import { OverloadedError } from "../../runtime/errors.js";
import {
  callInHop,
  endHop,
  endHopWith,
  extractContext,
  runInHop,
  startCallSpan,
  startEnqueueSpan,
  startEventSpan,
  startJobSpan,
  startPublishSpan,
  startTellSpan,
  startTurnSpan,
  traceIdsOf,
  tracingEnabled,
} from "../../runtime/telemetry/index.js";
import { TroupeTracerProvider } from "../../runtime/telemetry/tracer/tracer.js";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";
import { receivedHeaders } from "./headers.js";

// One SDK per process (each ava test file runs in its own process), exporting OTLP/HTTP protobuf to
// a real receiver; every assertion is on spans decoded from the wire.
const otel = exportSpansToReceiver(test, "troupe-tracing-test");

/** Flushes, then waits until the receiver has every span of `names` that carries `marker`. */
async function received(marker: string, names: string[]): Promise<DecodedSpan[]> {
  await otel.telemetry.forceFlush();
  const mine = (all: DecodedSpan[]) =>
    all.filter(
      (s) => s.attributes["troupe.actor.id"] === marker || s.attributes["messaging.message.id"] === marker,
    );
  const spans = await otel.receiver.waitForSpans((all) =>
    names.every((n) => mine(all).some((s) => s.name === n)),
  );
  return mine(spans);
}

function byName(spans: DecodedSpan[], name: string): DecodedSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one span "${name}", got ${found.length}`);
  return found[0] as DecodedSpan;
}

test("telemetry - the SDK is registered from OTEL_* variables", (t) => {
  t.true(otel.telemetry.tracing);
  t.true(tracingEnabled());
  const registered = trace.getTracerProvider();
  const provider = registered instanceof ProxyTracerProvider ? registered.getDelegate() : registered;
  t.true(provider instanceof TroupeTracerProvider, "OTLP/HTTP protobuf uses Troupe's tracer");
});

test("telemetry - a context injected into headers is extracted as the same trace", (t) => {
  const hop = startCallSpan("Cart", "add", "roundtrip", "troupe.rpc.Cart.0");
  t.truthy(hop);
  if (!hop) return;
  t.deepEqual(Object.keys(hop.headers), ["traceparent"], "lower-case keys; no tracestate when empty");
  const sent = traceIdsOf(hop.context);
  const got = traceIdsOf(extractContext(receivedHeaders(hop.headers)));
  t.deepEqual(got, sent);
  t.regex(hop.headers.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  endHop(hop);
});

test("telemetry - tracestate travels with traceparent", (t) => {
  const incoming = receivedHeaders({
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    tracestate: "vendor=abc",
  });
  const turn = startTurnSpan(incoming, "call", "Cart", "add", "tracestate", "troupe.rpc.Cart.0");
  const nested = runInHop(turn, () => startCallSpan("Stock", "reserve", "tracestate", "troupe.rpc.Stock.0"));
  t.is(nested?.headers.tracestate, "vendor=abc");
  t.true(nested?.headers.traceparent?.startsWith("00-0af7651916cd43dd8448eb211c80319c-"));
  endHop(nested);
  endHop(turn);
});

test("telemetry - call, turn and a nested call land in one trace with the right parents", async (t) => {
  const client = startCallSpan("Cart", "checkout", "flow-1", "troupe.rpc.Cart.1");
  // The callee sees only the headers that crossed the wire.
  const turn = startTurnSpan(
    receivedHeaders(client?.headers),
    "call",
    "Cart",
    "checkout",
    "flow-1",
    "troupe.rpc.Cart.1",
    "troupe.rpc.Cart",
  );
  // The handler runs in both the turn's own AsyncLocalStorage and the span context, across awaits.
  const handler = async () => {
    await nextTurn();
    const nested = startCallSpan("Payments", "charge", "flow-1", "troupe.rpc.Payments.0");
    await nextTurn();
    endHop(nested);
    return "done";
  };
  const value = await callInHop(turn, handler, undefined, undefined);
  t.is(value, "done");
  const outcome = { ok: true, value }; // a TurnOutcome
  endHopWith(turn, outcome);
  endHop(client);

  const spans = await received("flow-1", [
    "call Cart.checkout",
    "process Cart.checkout",
    "call Payments.charge",
  ]);
  const c = byName(spans, "call Cart.checkout");
  const s = byName(spans, "process Cart.checkout");
  const n = byName(spans, "call Payments.charge");
  t.is(c.kind, "CLIENT");
  t.is(s.kind, "SERVER");
  t.is(n.kind, "CLIENT");
  t.is(s.traceId, c.traceId);
  t.is(n.traceId, c.traceId);
  t.is(c.parentSpanId, "");
  t.is(s.parentSpanId, c.spanId);
  t.is(n.parentSpanId, s.spanId);
  t.like(c.attributes, {
    "messaging.system": "nats",
    "messaging.operation.name": "call",
    "messaging.operation.type": "send",
    "messaging.destination.name": "troupe.rpc.Cart.1",
    "troupe.actor.type": "Cart",
    "troupe.method": "checkout",
    "troupe.actor.id": "flow-1",
  });
  t.like(s.attributes, {
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
    "messaging.consumer.group.name": "troupe.rpc.Cart",
  });
  t.is(c.serviceName, "troupe-tracing-test");
  t.is(c.scopeName, "troupe");
  t.is(s.status.code, "UNSET");
});

test("telemetry - a tell is a PRODUCER send and a CONSUMER process, parent and child", async (t) => {
  const send = startTellSpan("Audit", "record", "tell-1", "troupe.rpc.Audit.0");
  const turn = startTurnSpan(
    receivedHeaders(send?.headers),
    "tell",
    "Audit",
    "record",
    "tell-1",
    "troupe.rpc.Audit.0",
  );
  endHop(turn);
  endHop(send);
  const spans = await received("tell-1", ["send Audit.record", "process Audit.record"]);
  const p = byName(spans, "send Audit.record");
  const c = byName(spans, "process Audit.record");
  t.is(p.kind, "PRODUCER");
  t.is(c.kind, "CONSUMER");
  t.is(c.traceId, p.traceId);
  t.is(c.parentSpanId, p.spanId);
});

test("telemetry - a job's first delivery is a child, a redelivery links to the first attempt's context", async (t) => {
  const enqueue = startEnqueueSpan("emails", "troupe.jobs.emails", "job-1");
  endHop(enqueue);
  const headers = receivedHeaders(enqueue?.headers); // a redelivery carries the same headers
  const first = startJobSpan(headers, "emails", "troupe.jobs.emails", "emails-worker", 1, "job-1");
  endHop(first, new Error("smtp down"));
  const second = startJobSpan(headers, "emails", "troupe.jobs.emails", "emails-worker", 2, "job-1");
  endHop(second);

  await otel.telemetry.forceFlush();
  const spans = await otel.receiver.waitForSpans(
    (all) => all.filter((s) => s.attributes["messaging.message.id"] === "job-1").length === 3,
  );
  const mine = spans.filter((s) => s.attributes["messaging.message.id"] === "job-1");
  const producer = byName(mine, "enqueue emails");
  const attempts = mine.filter((s) => s.name === "process emails");
  const a1 = attempts.find((s) => s.attributes["troupe.delivery.attempt"] === 1);
  const a2 = attempts.find((s) => s.attributes["troupe.delivery.attempt"] === 2);
  if (!a1 || !a2) return t.fail("both attempts must arrive");
  t.is(producer.kind, "PRODUCER");
  t.is(a1.kind, "CONSUMER");
  t.is(a1.traceId, producer.traceId);
  t.is(a1.parentSpanId, producer.spanId);
  t.deepEqual(a1.links, []);
  t.is(a2.kind, "CONSUMER");
  t.is(a2.parentSpanId, "", "a redelivery starts its own trace");
  t.not(a2.traceId, producer.traceId);
  t.deepEqual(
    a2.links.map((l) => [l.traceId, l.spanId]),
    [[producer.traceId, producer.spanId]],
    "linked to the context the first attempt ran under",
  );
  t.like(a2.attributes, { "messaging.destination.subscription.name": "emails-worker" });
  t.is(a1.status.code, "ERROR");
});

test("telemetry - pub-sub delivery is a child of the publish", async (t) => {
  const publish = startPublishSpan("orders", "troupe.events.orders", "evt-1");
  const a = startEventSpan(
    receivedHeaders(publish?.headers),
    "orders",
    "troupe.events.orders",
    "billing",
    "evt-1",
  );
  const b = startEventSpan(
    receivedHeaders(publish?.headers),
    "orders",
    "troupe.events.orders",
    "audit",
    "evt-1",
  );
  endHop(a);
  endHop(b);
  endHop(publish);
  await otel.telemetry.forceFlush();
  const spans = await otel.receiver.waitForSpans(
    (all) => all.filter((s) => s.attributes["messaging.message.id"] === "evt-1").length === 3,
  );
  const mine = spans.filter((s) => s.attributes["messaging.message.id"] === "evt-1");
  const p = byName(mine, "publish orders");
  const subscribers = mine.filter((s) => s.name === "process orders");
  t.is(p.kind, "PRODUCER");
  t.deepEqual(subscribers.map((s) => s.attributes["messaging.destination.subscription.name"]).sort(), [
    "audit",
    "billing",
  ]);
  for (const s of subscribers) {
    t.is(s.kind, "CONSUMER");
    t.is(s.traceId, p.traceId);
    t.is(s.parentSpanId, p.spanId);
  }
});

test("telemetry - failed hops carry error.type and status ERROR", async (t) => {
  const typed = startCallSpan("Cart", "add", "errors-1", "troupe.rpc.Cart.2");
  endHop(typed, new OverloadedError("mailbox of Cart/errors-1 is full"));
  const plain = startTurnSpan(undefined, "call", "Cart", "remove", "errors-1", "troupe.rpc.Cart.2");
  endHopWith(plain, { ok: false, error: new TypeError("x is not a function") });
  const spans = await received("errors-1", ["call Cart.add", "process Cart.remove"]);
  const a = byName(spans, "call Cart.add");
  const b = byName(spans, "process Cart.remove");
  t.is(a.attributes["error.type"], "TROUPE_OVERLOADED");
  t.deepEqual(a.status, { code: "ERROR", message: "mailbox of Cart/errors-1 is full" });
  const exception = a.events.find((e) => e.name === "exception");
  t.is(exception?.attributes["exception.message"], "mailbox of Cart/errors-1 is full");
  t.is(b.attributes["error.type"], "TypeError");
  t.is(b.status.code, "ERROR");
  t.is(b.parentSpanId, "", "no headers: the turn is a root span");
});
