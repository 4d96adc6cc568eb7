import test from "ava";
import {
  callInHop,
  endHop,
  endHopWith,
  runInHop,
  setHopAttribute,
  startCallSpan,
  startEnqueueSpan,
  startEventSpan,
  startJobSpan,
  startPublishSpan,
  startTellSpan,
  startTurnSpan,
  tracingEnabled,
} from "../../runtime/telemetry/index.js";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";
import { receivedHeaders } from "./headers.js";

// No SDK is registered in this process (each test file runs in its own process).

test("telemetry - with no SDK registered every hop is undefined and nothing is injected", (t) => {
  t.false(tracingEnabled());
  t.is(startCallSpan("Cart", "add", "cart-1", "troupe.rpc.Cart.3"), undefined);
  t.is(startTellSpan("Cart", "add", "cart-1", "troupe.rpc.Cart.3"), undefined);
  t.is(startEnqueueSpan("emails", "troupe.jobs.emails"), undefined);
  t.is(startPublishSpan("orders", "troupe.events.orders"), undefined);
  const incoming = receivedHeaders({
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  });
  t.is(startTurnSpan(incoming, "call", "Cart", "add", "cart-1", "troupe.rpc.Cart.3"), undefined);
  t.is(startJobSpan(incoming, "emails", "troupe.jobs.emails", "emails", 2), undefined);
  t.is(startEventSpan(incoming, "orders", "troupe.events.orders", "audit"), undefined);
});

test("telemetry - with no SDK registered a handler's result comes back unchanged", async (t) => {
  const result = { value: 42 };
  const fn = () => result;
  t.is(runInHop(undefined, fn), result);
  const self = { n: 1 };
  t.is(
    callInHop(
      undefined,
      function (this: typeof self, add: number) {
        return this.n + add;
      },
      self,
      41,
    ),
    42,
    "called directly, with its this and argument",
  );
  const promise = Promise.resolve(result);
  t.is(
    runInHop(undefined, () => promise),
    promise,
  );
  t.is(await runInHop(undefined, async () => result), result);
  const error = new Error("boom");
  t.throws(
    () =>
      runInHop(undefined, () => {
        throw error;
      }),
    { is: error },
  );
  t.notThrows(() => {
    endHop(undefined);
    endHop(undefined, error);
    endHopWith(undefined, { ok: false, error });
    setHopAttribute(undefined, "troupe.method", "add");
  });
});

test.serial("telemetry - startTelemetry without an exporter configured sets nothing up", async (t) => {
  for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key];
  const telemetry = await startTelemetry();
  t.false(telemetry.tracing);
  t.is(telemetry.metricsUrl, undefined);
  t.false(tracingEnabled());
  await telemetry.shutdown();
});

test.serial("telemetry - OTEL_SDK_DISABLED wins over a configured endpoint", async (t) => {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = "http://127.0.0.1:1";
  process.env.OTEL_SDK_DISABLED = "true";
  t.teardown(() => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_SDK_DISABLED;
  });
  const telemetry = await startTelemetry();
  t.false(telemetry.tracing);
  t.false(tracingEnabled());
});
