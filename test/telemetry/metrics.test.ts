import test from "ava";
import { reservePorts } from "troupe/testing";
import { metricsEnabled, recordActivation, recordCall } from "../../runtime/telemetry/index.js";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";

test("telemetry - with metrics on, calls show up on the Prometheus endpoint", async (t) => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  t.false(metricsEnabled());
  recordCall("Cart", "add", 3); // no provider yet: nothing recorded, nothing thrown
  const [port] = await reservePorts(1);
  const telemetry = await startTelemetry({ metricsPort: port as number, serviceName: "metrics-test" });
  t.teardown(() => telemetry.shutdown());
  t.false(telemetry.tracing, "no OTLP endpoint: tracing stays off");
  t.truthy(telemetry.metricsUrl);
  t.true(metricsEnabled());
  recordCall("Cart", "add", 3);
  recordCall("Cart", "add", 7, "TROUPE_OVERLOADED");
  recordActivation("Cart", 1);
  const body = await (await fetch(telemetry.metricsUrl as string)).text();
  t.regex(body, /troupe_calls_total\{[^}]*troupe_actor_type="Cart"[^}]*troupe_method="add"[^}]*\} 1/);
  t.regex(body, /troupe_calls_total\{[^}]*error_type="TROUPE_OVERLOADED"[^}]*\} 1/);
  t.regex(body, /troupe_call_duration_count\{/);
  t.regex(body, /troupe_activations\{[^}]*troupe_actor_type="Cart"[^}]*\} 1/);
});
