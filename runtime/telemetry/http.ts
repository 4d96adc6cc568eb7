/**
 * HTTP server spans for the gateway, following the OpenTelemetry HTTP conventions: a SERVER span
 * `{method} {route}` (the route template, never the raw path: it holds actor ids), child of the W3C
 * trace context the HTTP client sent. Run the request's mesh calls inside it (`runInHop`) so one
 * trace goes from the HTTP client to the last actor; `traceparentOf` gives the header to send back.
 *
 * @example
 * ```ts
 * const hop = startHttpServerSpan("POST", "/v1/actors/:type/:id/:method", req.headers);
 * const result = await runInHop(hop, () => mesh.callByName(type, id, method, args));
 * reply.header("traceparent", traceparentOf(hop));
 * endHttpServerSpan(hop, 200);
 * ```
 */
import {
  type Attributes,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import { activeTracer, Hop } from "./hop.js";
import { injectContext, TRACEPARENT_HEADER } from "./propagation.js";
import { ATTR_ERROR_TYPE } from "./semconv.js";

/** Incoming HTTP headers as Node gives them: lower-case names, string or string[] values. */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

const ATTR_HTTP_REQUEST_METHOD = "http.request.method";
const ATTR_HTTP_ROUTE = "http.route";
const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";

const httpGetter: TextMapGetter<HttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
};

/** SERVER span of one HTTP request, child of its `traceparent`; undefined when tracing is off. */
export function startHttpServerSpan(method: string, route: string, headers: HttpHeaders): Hop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, headers, httpGetter);
  const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route };
  const span = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  return new Hop(span, trace.setSpan(parent, span));
}

const ATTR_NETWORK_PROTOCOL_NAME = "network.protocol.name";

/**
 * SERVER span of one frame on a WebSocket (`{op} {route}`, e.g. `call /v1/ws`), child of the trace
 * context the frame carried (`traceparent`/`tracestate` fields; browsers cannot set headers on a
 * WebSocket, so each frame brings its own); end it with {@link endHttpServerSpan} and the frame's
 * problem status (200 for a result).
 */
export function startWebSocketFrameSpan(op: string, route: string, carrier: HttpHeaders): Hop | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, carrier, httpGetter);
  const attributes: Attributes = { [ATTR_HTTP_ROUTE]: route, [ATTR_NETWORK_PROTOCOL_NAME]: "websocket" };
  const span = tracer.startSpan(`${op} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  return new Hop(span, trace.setSpan(parent, span));
}

/** The `traceparent` of the hop's span, for the response; undefined without a hop. */
export function traceparentOf(hop: Hop | undefined): string | undefined {
  if (!hop) return undefined;
  return injectContext(hop.context, {})[TRACEPARENT_HEADER];
}

/** Ends the request's span with its status; 5xx responses mark it as an error (4xx are the client's). */
export function endHttpServerSpan(hop: Hop | undefined, status: number, errorCode?: string): void {
  const span = hop?.span;
  if (!span) return;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
