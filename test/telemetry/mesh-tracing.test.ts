import test from "ava";
import { Actor } from "troupe";
import { TestMesh } from "troupe/testing";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";

// The runtime's own hops, traced end to end: spans are exported by the real SDK over OTLP/HTTP
// protobuf and decoded by a real receiver.
const otel = exportSpansToReceiver(test, "troupe-mesh-tracing-test");

class Inventory extends Actor<{ stock: number }> {
  static initialState = () => ({ stock: 10 });
  async reserve(n: number): Promise<number> {
    if (n > this.state.stock) throw new RangeError("not enough stock");
    this.state.stock -= n;
    return this.state.stock;
  }
}

class Shop extends Actor {
  async order(sku: string, n: number): Promise<number> {
    return this.ref(Inventory, sku).reserve(n);
  }
  async note(): Promise<void> {}
}

async function spansOf(actorIds: string[], count: number): Promise<DecodedSpan[]> {
  await otel.telemetry.forceFlush();
  const mine = (all: DecodedSpan[]) =>
    all.filter((s) => actorIds.includes(String(s.attributes["troupe.actor.id"])));
  return mine(await otel.receiver.waitForSpans((all) => mine(all).length >= count));
}

test("tracing - a call, its turn, a nested call and its turn land in one trace", async (t) => {
  const tm = await TestMesh.start({ types: [Shop, Inventory] });
  t.teardown(() => tm.close());
  t.is(await tm.ref(Shop, "shop-1").order("sku-1", 2), 8);

  const spans = await spansOf(["shop-1", "sku-1"], 4);
  const one = (name: string, kind: string) => {
    const found = spans.filter((s) => s.name === name && s.kind === kind);
    t.is(found.length, 1, `${kind} ${name}`);
    return found[0] as DecodedSpan;
  };
  const call = one("call Shop.order", "CLIENT");
  const turn = one("process Shop.order", "SERVER");
  const nested = one("call Inventory.reserve", "CLIENT");
  const nestedTurn = one("process Inventory.reserve", "SERVER");
  t.is(new Set([call, turn, nested, nestedTurn].map((s) => s.traceId)).size, 1, "one trace");
  t.is(turn.parentSpanId, call.spanId);
  t.is(nested.parentSpanId, turn.spanId);
  t.is(nestedTurn.parentSpanId, nested.spanId);
  t.is(call.attributes["messaging.system"], "nats");
  t.is(turn.attributes["troupe.actor.type"], "Shop");
  t.is(turn.attributes["troupe.method"], "order");
  t.false(String(call.name).includes("shop-1"), "span names never carry actor ids");
});

test("tracing - an error thrown by a handler is recorded on both sides with error.type", async (t) => {
  const tm = await TestMesh.start({ types: [Inventory] });
  t.teardown(() => tm.close());
  await t.throwsAsync(tm.ref(Inventory, "sku-short").reserve(99));
  const spans = await spansOf(["sku-short"], 2);
  for (const s of spans) {
    t.is(s.status.code, "ERROR", s.name);
    t.truthy(s.attributes["error.type"], s.name);
  }
});

test("tracing - a tell is a PRODUCER send and a CONSUMER process in one trace", async (t) => {
  const tm = await TestMesh.start({ types: [Shop] });
  t.teardown(() => tm.close());
  tm.ref(Shop, "told").tell.note();
  const spans = await spansOf(["told"], 2);
  const send = spans.find((s) => s.kind === "PRODUCER");
  const process = spans.find((s) => s.kind === "CONSUMER");
  t.truthy(send && process);
  t.is(process?.traceId, send?.traceId);
  t.is(process?.parentSpanId, send?.spanId);
});
