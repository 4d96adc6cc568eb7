/**
 * W3C trace context through the gateway: the HTTP client's `traceparent` is the parent of the
 * gateway's SERVER span, the mesh call is its child, the actor's turn the call's child (one trace
 * from the HTTP client to the actor), and the response carries the gateway span's `traceparent`.
 */
import test from "ava";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";
import { AUTH, http, startGatewayFixture } from "./helpers.js";
import { openWs } from "./ws-client.js";

const otel = exportSpansToReceiver(test, "troupe-gateway-tracing-test");

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

test("gateway tracing - one trace from the HTTP client's traceparent to the actor's turn", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const res = await http(gatewayUrl, "POST", "/v1/actors/Greeter/trace-1/hello", {
    body: ["x"],
    headers: { ...AUTH, traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
  });
  t.is(res.status, 200, res.text);
  const back = res.headers.get("traceparent") ?? "";
  t.regex(back, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

  await otel.telemetry.forceFlush();
  const names = ["POST /v1/actors/:type/:id/:method", "call Greeter.hello", "process Greeter.hello"];
  const spans = await otel.receiver.waitForSpans((all) =>
    names.every((n) => all.some((s) => s.name === n && s.traceId === TRACE_ID)),
  );
  const of = (name: string) => spans.find((s) => s.name === name && s.traceId === TRACE_ID) as DecodedSpan;
  const server = of(names[0] as string);
  const call = of(names[1] as string);
  const turn = of(names[2] as string);
  t.is(server.kind, "SERVER");
  t.is(server.parentSpanId, CLIENT_SPAN);
  t.is(back.split("-")[2], server.spanId);
  t.is(call.parentSpanId, server.spanId);
  t.is(turn.parentSpanId, call.spanId);
  t.like(server.attributes, {
    "http.route": "/v1/actors/:type/:id/:method",
    "http.response.status_code": 200,
  });
});

test("gateway tracing - a WebSocket call frame's traceparent is the parent of its span, and the result carries it back", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const c = await openWs(t, gatewayUrl, AUTH);
  const traceId = "5cf92f3577b34da6a3ce929d0e0e4737";
  const result = await c.request({
    op: "call",
    id: "t1",
    actorType: "Greeter",
    actorId: "trace-ws",
    method: "hello",
    args: ["x"],
    traceparent: `00-${traceId}-${CLIENT_SPAN}-01`,
  });
  t.is(result.result, "hello, x");
  t.regex(result.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  await otel.telemetry.forceFlush();
  const names = ["call /v1/ws", "call Greeter.hello", "process Greeter.hello"];
  const spans = await otel.receiver.waitForSpans((all) =>
    names.every((n) => all.some((s) => s.name === n && s.traceId === traceId)),
  );
  const of = (name: string) => spans.find((s) => s.name === name && s.traceId === traceId) as DecodedSpan;
  const frame = of("call /v1/ws");
  t.is(frame.kind, "SERVER");
  t.is(frame.parentSpanId, CLIENT_SPAN);
  t.is(result.traceparent.split("-")[2], frame.spanId);
  t.is(of("call Greeter.hello").parentSpanId, frame.spanId);
  t.is(of("process Greeter.hello").parentSpanId, of("call Greeter.hello").spanId);
  t.like(frame.attributes, { "http.route": "/v1/ws", "network.protocol.name": "websocket" });
});
