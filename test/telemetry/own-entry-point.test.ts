/**
 * The runnable example of docs/observability.md, "In your own entry point": `startTelemetry` from
 * the package's public entry point, before `connect()`, shut down last, exporting OTLP/HTTP to a
 * real receiver and a real nats-server.
 */
import test from "ava";
import { Actor, connect, startTelemetry } from "troupe";
import { startServer } from "../helpers/nats.js";
import { callAndTurnSpans, startOtlpReceiver } from "../helpers/otlp-receiver.js";

class Cart extends Actor {
  async add(item: string): Promise<string> {
    return `added ${item}`;
  }
}

test("telemetry - a process's own entry point starts the SDK from 'troupe' and its spans reach the collector", async (t) => {
  const server = await startServer(t);
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/protobuf";

  // As in the docs: the SDK first, then the mesh; the mesh closed, then the SDK (which flushes).
  const telemetry = await startTelemetry({ serviceName: "shop-host" });
  const mesh = await connect({ servers: server.url });
  await mesh.host([Cart]);
  t.is(await mesh.ref(Cart, "c-1").add("tea"), "added tea");
  await mesh.close();
  await telemetry.shutdown();

  t.true(telemetry.tracing);
  const { call, turn } = await callAndTurnSpans(receiver, "Cart.add");
  t.is(turn?.parentSpanId, call?.spanId);
  t.is(call?.serviceName, "shop-host");
});
