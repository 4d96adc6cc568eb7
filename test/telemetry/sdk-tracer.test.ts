/**
 * `TROUPE_TRACER=sdk`: the OpenTelemetry SDK's own tracer provider and OTLP exporter instead of
 * Troupe's tracer. The runtime's hops must trace the same way through it (parents across a call,
 * its turn and a nested call), since users who register their own SDK get this path too.
 */
import { ProxyTracerProvider, trace } from "@opentelemetry/api";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import test from "ava";
import { Actor } from "troupe";
import { TestMesh } from "troupe/testing";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";

const otel = exportSpansToReceiver(test, "troupe-sdk-tracer-test", { TROUPE_TRACER: "sdk" });

class Ledger extends Actor {
  async post(amount: number): Promise<number> {
    return amount;
  }
}

class Till extends Actor {
  async sell(amount: number): Promise<number> {
    return this.ref(Ledger, "main").post(amount);
  }
}

test("sdk tracer - with TROUPE_TRACER=sdk the SDK records the call, its turn and a nested call in one trace", async (t) => {
  const registered = trace.getTracerProvider();
  const provider = registered instanceof ProxyTracerProvider ? registered.getDelegate() : registered;
  t.true(provider instanceof NodeTracerProvider);

  const tm = await TestMesh.start({ types: [Till, Ledger] });
  t.teardown(() => tm.close());
  t.is(await tm.ref(Till, "till-1").sell(5), 5);
  await otel.telemetry.forceFlush();
  const mine = (all: DecodedSpan[]) =>
    all.filter((s) => ["till-1", "main"].includes(String(s.attributes["troupe.actor.id"])));
  const spans = mine(await otel.receiver.waitForSpans((all) => mine(all).length >= 4));
  const one = (name: string) => spans.find((s) => s.name === name) as DecodedSpan;
  const call = one("call Till.sell");
  const turn = one("process Till.sell");
  const nested = one("call Ledger.post");
  const nestedTurn = one("process Ledger.post");
  t.is(new Set([call, turn, nested, nestedTurn].map((s) => s.traceId)).size, 1);
  t.is(turn.parentSpanId, call.spanId);
  t.is(nested.parentSpanId, turn.spanId);
  t.is(nestedTurn.parentSpanId, nested.spanId);
  t.is(turn.scopeName, "troupe");
});
