/**
 * Troupe's tracer (runtime/telemetry/tracer/): the OTLP protobuf it writes is checked field by
 * field against the official schema, and its spans and sampling follow the OpenTelemetry API's
 * rules (status, exceptions, limits, remote parents, suppression, active spans). The end-to-end
 * flows over a real OTLP receiver are in tracing.test.ts, flow.test.ts and mesh-tracing.test.ts,
 * which run on this tracer too.
 */
import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  SamplingDecision,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { suppressTracing, TraceState } from "@opentelemetry/core";
import { AlwaysOnSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-node";
import test from "ava";
import { newRootSpanContext, ratioUpperBound } from "../../runtime/telemetry/tracer/ids.js";
import { OtlpTraceEncoder } from "../../runtime/telemetry/tracer/otlp-encoder.js";
import { samplerFromEnv, samplerRootRatio } from "../../runtime/telemetry/tracer/sampler.js";
import type { RecordedSpan, SpanLimits } from "../../runtime/telemetry/tracer/span.js";
import { TroupeTracerProvider } from "../../runtime/telemetry/tracer/tracer.js";
import { decodeTraceRequest } from "../helpers/otlp-receiver.js";

test.before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

function tracerWith(options: { env?: NodeJS.ProcessEnv; limits?: Partial<SpanLimits> } = {}) {
  const ended: RecordedSpan[] = [];
  const warnings: string[] = [];
  const provider = new TroupeTracerProvider({
    sampler: options.env ? samplerFromEnv(options.env, (m) => warnings.push(m)) : new AlwaysOnSampler(),
    processor: { onEnd: (s) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} },
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return { provider, tracer: provider.getTracer("troupe-test", "1.2.3"), ended, warnings };
}

const hex = (bytes: unknown) => Buffer.from(bytes as number[]).toString("hex");

/** Epoch ms → nanoseconds as the encoder must write them (exact integer arithmetic). */
function expectedNanos(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.max(0, Math.round((ms - seconds * 1000) * 1e6)));
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}

interface DecodedKv {
  key: string;
  value: Record<string, unknown>;
}
/** The values of a decoded AnyValue holding an array (none when it is something else). */
const arrayValues = (value: Record<string, unknown> | undefined) =>
  ((value?.arrayValue ?? { values: [] }) as { values: Record<string, unknown>[] }).values;
const attrs = (list: unknown) => Object.fromEntries((list as DecodedKv[]).map((kv) => [kv.key, kv.value]));

test("troupe tracer - the OTLP protobuf decodes field by field with the official schema", (t) => {
  const { tracer, ended } = tracerWith({ limits: { attributeCount: 13 } });
  const remote: SpanContext = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=a,other=b"),
  };
  const attributes: Attributes = {
    "s.ascii": "nats",
    "s.unicode": "héllo ✓ 😀",
    "i.small": 42,
    "i.negative": -7,
    "i.large": 2 ** 40,
    "d.value": 1.5,
    "b.value": true,
    "a.strings": ["x", "y"],
    "a.numbers": [1, 2.5],
    "a.bools": [true, false],
    "s.long": "v".repeat(20_000),
    "s.hundred": "h".repeat(100), // ASCII, but past the short-string loop: a 2-byte length
  };
  const server = tracer.startSpan(
    "process Cart.add",
    {
      kind: SpanKind.SERVER,
      attributes,
      links: [{ context: { ...remote, spanId: "00f067aa0ba902b7" }, attributes: { "link.kind": "retry" } }],
    },
    trace.setSpanContext(ROOT_CONTEXT, remote),
  );
  server.setAttribute("late", "added");
  server.setAttribute("over.limit", 1); // the 14th attribute
  // A number below performance.timeOrigin would be a performance.now() value, as in the SDK.
  const eventMs = performance.timeOrigin + 60_000.123456;
  server.addEvent("retrying", { "attempt.n": 2 }, eventMs);
  server.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
  server.end();
  const local = tracer.startSpan(`call ${"n".repeat(200)}`, { kind: SpanKind.CLIENT });
  local.end();
  const tiny = tracer.startSpan("x", { kind: SpanKind.INTERNAL, root: true });
  tiny.end(); // a span shorter than 128 bytes: its reserved 2-byte length shrinks to 1
  t.is(ended.length, 3);

  const request = decodeTraceRequest(
    new OtlpTraceEncoder({ "service.name": "encoder-test", "host.cores": 2 }).encode(ended),
  ) as {
    resourceSpans: {
      resource: { attributes: unknown };
      scopeSpans: { scope: { name: string; version: string }; spans: Record<string, unknown>[] }[];
    }[];
  };
  t.is(request.resourceSpans.length, 1);
  const rs = request.resourceSpans[0];
  if (!rs) return;
  t.deepEqual(attrs(rs.resource.attributes)["service.name"], { stringValue: "encoder-test" });
  t.is(attrs(rs.resource.attributes)["host.cores"]?.intValue, "2");
  t.is(rs.scopeSpans.length, 1);
  const scope = rs.scopeSpans[0];
  if (!scope) return;
  t.deepEqual(scope.scope.name, "troupe-test");
  t.deepEqual(scope.scope.version, "1.2.3");
  const [s, l, x] = scope.spans as [
    Record<string, unknown>,
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  const recorded = ended[0] as RecordedSpan;

  t.is(hex(s.traceId), remote.traceId, "a child keeps its remote parent's trace id");
  t.is(hex(s.spanId), recorded.spanContext().spanId);
  t.is(hex(s.parentSpanId), remote.spanId);
  t.is(s.traceState, "vendor=a,other=b");
  t.is(s.name, "process Cart.add");
  t.is(s.kind, 2, "SERVER is 2 in the proto (the API's 1, shifted past UNSPECIFIED)");
  t.is(s.startTimeUnixNano, expectedNanos(recorded.startMs));
  t.is(s.endTimeUnixNano, expectedNanos(recorded.endMs));
  const a = attrs(s.attributes);
  t.deepEqual(a["s.ascii"], { stringValue: "nats" });
  t.deepEqual(a["s.unicode"], { stringValue: "héllo ✓ 😀" });
  t.is(a["i.small"]?.intValue, "42");
  t.is(a["i.negative"]?.intValue, "-7");
  t.is(a["i.large"]?.intValue, String(2 ** 40));
  t.is(a["d.value"]?.doubleValue, 1.5);
  t.is(a["b.value"]?.boolValue, true);
  t.deepEqual(
    arrayValues(a["a.strings"]).map((v) => v.stringValue),
    ["x", "y"],
  );
  const numbers = arrayValues(a["a.numbers"]);
  t.is(numbers[0]?.intValue, "1");
  t.is(numbers[1]?.doubleValue, 2.5);
  t.deepEqual(
    arrayValues(a["a.bools"]).map((v) => v.boolValue),
    [true, false],
  );
  t.is(String(a["s.long"]?.stringValue).length, 20_000);
  t.is(a["s.hundred"]?.stringValue, "h".repeat(100));
  t.deepEqual(a.late, { stringValue: "added" });
  t.false("over.limit" in a);
  t.is(s.droppedAttributesCount, 1);
  const events = s.events as Record<string, unknown>[];
  t.is(events.length, 1);
  t.is(events[0]?.name, "retrying");
  t.is(events[0]?.timeUnixNano, expectedNanos(eventMs));
  t.is(attrs(events[0]?.attributes)["attempt.n"]?.intValue, "2");
  const links = s.links as Record<string, unknown>[];
  t.is(links.length, 1);
  t.is(hex(links[0]?.traceId), remote.traceId);
  t.is(hex(links[0]?.spanId), "00f067aa0ba902b7");
  t.is(links[0]?.traceState, "vendor=a,other=b");
  t.deepEqual(attrs(links[0]?.attributes)["link.kind"], { stringValue: "retry" });
  t.is(links[0]?.flags, 0x301, "sampled, is_remote known and true");
  t.deepEqual(s.status, { message: "boom", code: 2 });
  t.is(s.flags, 0x301, "sampled, with a remote parent");

  t.is(hex(l.parentSpanId), "", "a root span has no parent");
  t.is(l.name, `call ${"n".repeat(200)}`);
  t.is(l.kind, 3);
  t.is(l.flags, 0x101, "sampled, parent not remote");
  t.is(l.status, null, "UNSET is the absent status (the proto default)");
  t.is(x.name, "x");
  t.is(x.kind, 1);
  t.is(hex(x.spanId), (ended[2] as RecordedSpan).spanContext().spanId);
});

test("troupe tracer - an encoded batch stays intact while the next one is encoded", (t) => {
  const { tracer, ended } = tracerWith();
  const encoder = new OtlpTraceEncoder({ "service.name": "reuse" });
  tracer.startSpan("first batch", { attributes: { n: 1 } }).end();
  const first = encoder.encode(ended.splice(0));
  const before = Buffer.from(first).toString("hex");
  for (let i = 0; i < 100; i++)
    tracer.startSpan(`second batch ${i}`, { attributes: { s: "x".repeat(500) } }).end();
  encoder.encode(ended.splice(0));
  t.is(Buffer.from(first).toString("hex"), before, "the bytes handed to the exporter did not change");
  t.notThrows(() => decodeTraceRequest(first));
});

test("troupe tracer - epoch milliseconds become exact nanoseconds, for any time", (t) => {
  const { tracer, ended } = tracerWith();
  const times = [0.001, 999.999999, 1_000, 1_764_000_000_000, 1_764_000_000_000.5, 4_102_444_800_000.25];
  for (let i = 0; i < 200; i++) times.push(1.6e12 + Math.random() * 1e12);
  // Epoch ms and HrTime inputs; a time before the process started is still an epoch time here.
  for (const ms of times) tracer.startSpan("t", { startTime: [Math.floor(ms / 1000), 0] }).end(ms);
  const decoded = decodeTraceRequest(new OtlpTraceEncoder({}).encode(ended)) as {
    resourceSpans: { scopeSpans: { spans: { endTimeUnixNano: string; startTimeUnixNano: string }[] }[] }[];
  };
  const spans = decoded.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  t.is(spans.length, times.length);
  spans.forEach((s, i) => {
    const ms = times[i] as number;
    const want = ms < performance.timeOrigin ? performance.timeOrigin + ms : ms;
    t.is(s.endTimeUnixNano, expectedNanos(Math.max(want, Math.floor(ms / 1000) * 1000)), `end time ${ms}`);
    t.is(s.startTimeUnixNano, (BigInt(Math.floor(ms / 1000)) * 1_000_000_000n).toString(), `start ${ms}`);
  });
});

test("troupe tracer - samplers from OTEL_TRACES_SAMPLER decide as the SDK's do", (t) => {
  const off = tracerWith({ env: { OTEL_TRACES_SAMPLER: "always_off" } });
  const dropped = off.tracer.startSpan("dropped");
  t.false(dropped.isRecording());
  t.true(trace.isSpanContextValid(dropped.spanContext()), "the context still propagates");
  t.is(dropped.spanContext().traceFlags, TraceFlags.NONE);
  dropped.end();
  t.is(off.ended.length, 0);

  const ratio = tracerWith({
    env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" },
  });
  t.false(ratio.tracer.startSpan("root at ratio 0").isRecording());
  const parent = (flags: number) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: flags,
      isRemote: true,
    });
  const child = ratio.tracer.startSpan("child", {}, parent(TraceFlags.SAMPLED));
  t.true(child.isRecording(), "a sampled remote parent decides for its children");
  t.is(child.spanContext().traceFlags, TraceFlags.SAMPLED);
  t.false(ratio.tracer.startSpan("child", {}, parent(TraceFlags.NONE)).isRecording());

  const suppressed = ratio.tracer.startSpan("inside an exporter", {}, suppressTracing(parent(1)));
  t.false(trace.isSpanContextValid(suppressed.spanContext()), "suppressed tracing makes no span");

  const unknown = tracerWith({ env: { OTEL_TRACES_SAMPLER: "sometimes" } });
  t.true(unknown.tracer.startSpan("root").isRecording(), "falls back to parentbased_always_on");
  t.regex(unknown.warnings.join("\n"), /unknown OTEL_TRACES_SAMPLER "sometimes"/);
  const badArg = tracerWith({ env: { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" } });
  t.regex(badArg.warnings.join("\n"), /not a ratio/);
});

test("troupe tracer - a root's ids and ratio decision in one draw decide as the SDK's sampler does", (t) => {
  for (const ratio of [0, 0.01, 0.1, 0.5, 1]) {
    const sdk = new TraceIdRatioBasedSampler(ratio);
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) {
      const sc = newRootSpanContext(ratioUpperBound(ratio));
      t.true(trace.isSpanContextValid(sc));
      const expected =
        sdk.shouldSample(ROOT_CONTEXT, sc.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      if (expected !== (sc.traceFlags === TraceFlags.SAMPLED)) {
        t.fail(`ratio ${ratio}: trace ${sc.traceId} decided ${sc.traceFlags}, the SDK says ${expected}`);
        return;
      }
      if (expected) sampled++;
    }
    t.log(`ratio ${ratio}: ${sampled} of 20,000 roots sampled`);
    if (ratio === 0) t.is(sampled, 0);
    if (ratio === 1) t.is(sampled, 20_000);
    if (ratio === 0.1) t.true(sampled > 1_500 && sampled < 2_500, String(sampled));
  }
  // The tracer takes the fast path for roots only when told its sampler decides roots by ratio.
  const env = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" };
  t.is(samplerRootRatio(env), 0.25);
  t.is(samplerRootRatio({ OTEL_TRACES_SAMPLER: "parentbased_always_on" }), undefined);
  t.is(samplerRootRatio({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" }), 0.5);
});

test("troupe tracer - spans follow the API's rules for status, exceptions, limits and ending", (t) => {
  const { tracer, ended } = tracerWith({ limits: { attributeCount: 2, eventCount: 2 } });
  const span = tracer.startSpan("rules") as RecordedSpan;
  span.setAttribute("a", 1).setAttribute("b", 2).setAttribute("a", 3).setAttribute("c", 4);
  span.setAttribute("object", { no: "objects" } as never);
  span.setAttribute("mixed", ["a", 1] as never);
  t.deepEqual(span.attributes, { a: 3, b: 2 }, "updating a key does not count, invalid values are ignored");
  t.is(span.droppedAttributesCount, 1);
  span.setAttribute("__proto__", ["polluted"]);
  t.is(Object.getPrototypeOf(span.attributes), Object.prototype, "a __proto__ key cannot swap the prototype");
  t.is(span.droppedAttributesCount, 2);

  span.recordException(new TypeError("bad input"));
  span.recordException(Object.assign(new Error("refused"), { code: "E_REFUSED" }));
  span.addEvent("third");
  t.deepEqual(
    span.events?.map((e) => e.name),
    ["exception", "third"],
    "the oldest event goes past the limit",
  );
  t.is(span.droppedEventsCount, 1);
  const exception = span.events?.[0]?.attributes ?? {};
  t.is(exception["exception.type"], "E_REFUSED", "an error's code is its exception.type");
  t.is(exception["exception.message"], "refused");
  t.regex(String(exception["exception.stacktrace"]), /refused/);

  span.setStatus({ code: SpanStatusCode.ERROR, message: "first" });
  span.setStatus({ code: SpanStatusCode.UNSET });
  t.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: "first" });
  span.setStatus({ code: SpanStatusCode.OK, message: "ignored for OK" });
  span.setStatus({ code: SpanStatusCode.ERROR, message: "too late" });
  t.deepEqual(span.status, { code: SpanStatusCode.OK }, "OK is final");

  span.updateName("renamed");
  span.end();
  span.end();
  span.setAttribute("after", 1);
  span.updateName("after end");
  t.is(ended.length, 1, "ended once");
  t.is(span.name, "renamed");
  t.false("after" in span.attributes);
  t.false(span.isRecording());
  t.true(span.endMs >= span.startMs);
});

test("troupe tracer - an active span is the parent of spans user code starts with any tracer", (t) => {
  const { provider, tracer, ended } = tracerWith();
  const userTracer = provider.getTracer("my-app");
  t.is(provider.getTracer("my-app"), userTracer, "one tracer per name and version");
  const result = tracer.startActiveSpan("process Cart.add", { kind: SpanKind.SERVER }, (outer: Span) => {
    t.is(trace.getActiveSpan(), outer);
    const inner = userTracer.startSpan("db query");
    inner.end();
    outer.end();
    return 7;
  });
  t.is(result, 7);
  t.is(trace.getActiveSpan(), undefined, "restored afterwards");
  const [inner, outer] = ended as [RecordedSpan, RecordedSpan];
  t.is(inner.parent?.spanId, outer.spanContext().spanId);
  t.is(inner.spanContext().traceId, outer.spanContext().traceId);
  t.is(inner.owner.scope.name, "my-app");
});
