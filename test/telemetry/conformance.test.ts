/**
 * Troupe's tracer against the OpenTelemetry SDK's (`TROUPE_TRACER=sdk`): the same flow, traced
 * once with each, exports the same spans — names, kinds, parents, attributes, links, events and
 * status — as a real OTLP receiver decodes them. Ids and times differ by nature; subjects differ by
 * the mesh prefix, which is normalised.
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import test from "ava";
import { Actor } from "troupe";
import { TestMesh } from "troupe/testing";
import { startTelemetry } from "../../runtime/telemetry/sdk.js";
import { type DecodedSpan, type DecodedValue, startOtlpReceiver } from "../helpers/otlp-receiver.js";

class Stock extends Actor {
  async reserve(n: number): Promise<number> {
    if (n > 5) throw new RangeError("not enough stock");
    return 5 - n;
  }
  async note(_n: number): Promise<void> {}
}

class Order extends Actor {
  async place(n: number): Promise<number> {
    const tracer = trace.getTracer("conformance-user", "1.0.0");
    const span = tracer.startSpan("user step", {
      attributes: { "app.count": n, "app.tags": ["a", "b"], "app.ok": true, "app.ratio": 0.5 },
      links: [{ context: trace.getActiveSpan()?.spanContext() ?? INVALID, attributes: { "link.why": "x" } }],
    });
    span.addEvent("user event", { "event.n": 1 });
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
    const left = await this.ref(Stock, "s-1").reserve(n);
    this.ref(Stock, "s-1").tell.note(n);
    try {
      await this.ref(Stock, "s-1").reserve(99);
    } catch {
      // recorded on the call's and the turn's spans as ERROR
    }
    return left;
  }
}

const INVALID = { traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 };

interface Normal {
  name: string;
  kind: string;
  parent: string;
  scope: string;
  attributes: Record<string, DecodedValue>;
  links: { to: string; attributes: Record<string, DecodedValue> }[];
  events: { name: string; attributes: Record<string, DecodedValue> }[];
  status: { code: string; message: string };
}

function normalise(spans: DecodedSpan[]): Normal[] {
  const nameOf = (id: string) => spans.find((s) => s.spanId === id)?.name ?? (id ? "(outside)" : "");
  const values = (a: Record<string, DecodedValue>) =>
    Object.fromEntries(
      Object.entries(a)
        .map(([k, v]) => [
          k,
          k === "exception.stacktrace"
            ? "(stack)"
            : typeof v === "string"
              ? v.replace(/tm\d+x\d+/g, "PREFIX").replace(/s-1|o-\d/g, "ID")
              : v,
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  return spans
    .map((s) => ({
      name: s.name,
      kind: s.kind,
      parent: nameOf(s.parentSpanId),
      scope: s.scopeName,
      attributes: values(s.attributes),
      links: s.links.map((l) => ({ to: nameOf(l.spanId), attributes: values(l.attributes) })),
      events: s.events.map((e) => ({ name: e.name, attributes: values(e.attributes) })),
      status: s.status,
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Runs the flow with tracing set up from `env`, returns its spans as exported. */
async function traceFlow(env: Record<string, string>, orderId: string): Promise<DecodedSpan[]> {
  const receiver = await startOtlpReceiver();
  for (const key of Object.keys(process.env))
    if (key.startsWith("OTEL_") || key === "TROUPE_TRACER") delete process.env[key];
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_SERVICE_NAME: "troupe-conformance",
    OTEL_BSP_SCHEDULE_DELAY: "50",
    ...env,
  });
  const telemetry = await startTelemetry();
  try {
    const tm = await TestMesh.start({ types: [Order, Stock] });
    let traceId = "";
    try {
      const tracer = trace.getTracer("conformance-test");
      await tracer.startActiveSpan("flow", async (root) => {
        traceId = root.spanContext().traceId;
        await tm.ref(Order, orderId).place(2);
        root.end();
      });
    } finally {
      await tm.close();
    }
    await telemetry.forceFlush();
    // flow, call + turn of place, user step, call + turn of reserve (twice), send + turn of note
    const all = await receiver.waitForSpans((s) => s.filter((x) => x.traceId === traceId).length >= 10);
    return all.filter((s) => s.traceId === traceId);
  } finally {
    await telemetry.shutdown();
    await receiver.close();
  }
}

test.serial(
  "conformance - Troupe's tracer and the SDK's export the same spans for the same flow",
  async (t) => {
    const ours = normalise(await traceFlow({}, "o-1"));
    const sdk = normalise(await traceFlow({ TROUPE_TRACER: "sdk" }, "o-1"));
    t.is(ours.length, 10);
    t.deepEqual(ours, sdk);
    // And the flow is what it should be (so that two equally wrong exports cannot pass).
    const names = ours.map((s) => `${s.kind} ${s.name} <- ${s.parent}`);
    for (const expected of [
      "CLIENT call Order.place <- flow",
      "SERVER process Order.place <- call Order.place",
      "INTERNAL user step <- process Order.place",
      "CLIENT call Stock.reserve <- process Order.place",
      "SERVER process Stock.reserve <- call Stock.reserve",
      "PRODUCER send Stock.note <- process Order.place",
      "CONSUMER process Stock.note <- send Stock.note",
    ]) {
      t.true(names.includes(expected), expected);
    }
    const failed = ours.filter((s) => s.status.code === "ERROR").map((s) => `${s.kind} ${s.name}`);
    t.deepEqual(failed.sort(), ["CLIENT call Stock.reserve", "SERVER process Stock.reserve"]);
    const step = ours.find((s) => s.name === "user step");
    t.is(step?.links[0]?.to, "process Order.place");
    t.is(step?.events[0]?.name, "user event");
    t.is(step?.status.code, "OK");
  },
);
