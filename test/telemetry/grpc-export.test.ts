import test from "ava";
import { Actor } from "troupe";
import { TestMesh } from "troupe/testing";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";
import { callAndTurnSpans, startOtlpReceiver } from "../helpers/otlp-receiver.js";

class Echo extends Actor {
  async echo(text: string): Promise<string> {
    return text;
  }
}

// OTEL_EXPORTER_OTLP_PROTOCOL=grpc: the same spans, exported over OTLP/gRPC to a real grpc-js
// TraceService (what Jaeger listens for on 4317).
test("telemetry - spans are exported over OTLP/gRPC when the protocol says grpc", async (t) => {
  const receiver = await startOtlpReceiver({ grpc: true });
  t.teardown(() => receiver.close());
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.grpcUrl;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "grpc";
  process.env.OTEL_SERVICE_NAME = "troupe-grpc-export-test";
  process.env.OTEL_BSP_SCHEDULE_DELAY = "50";
  const telemetry = await startTelemetry();
  t.teardown(() => telemetry.shutdown());
  t.true(telemetry.tracing);

  const tm = await TestMesh.start({ types: [Echo] });
  t.teardown(() => tm.close());
  t.is(await tm.ref(Echo, "e").echo("over grpc"), "over grpc");
  await telemetry.forceFlush();
  const { call, turn } = await callAndTurnSpans(receiver, "Echo.echo");
  t.is(turn?.parentSpanId, call?.spanId);
  t.is(call?.serviceName, "troupe-grpc-export-test");
});
