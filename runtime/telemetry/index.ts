/**
 * Tracing and metrics for the runtime: the only module that imports `@opentelemetry/api`. The SDK
 * is set up by `startTelemetry` (`./sdk.ts`), for process entry points only; it loads the SDK
 * packages when called (dynamic imports), so importing this index never loads them. The runtime
 * records spans and call metrics through the built-in interceptors of `./interceptors.ts`
 * (`outboundTracing`, `callMetrics`, `inboundTracing`), which `connect()` and `mesh.host()` install;
 * with no SDK registered they are idle and a chain of nothing else is skipped. The `start*` hop
 * functions below are what those interceptors (and the HTTP gateway) build spans with; each
 * returns `undefined` when tracing is off.
 *
 * @example
 * ```ts
 * const hop = startCallSpan(type, method, id, subject);   // undefined when tracing is off
 * try {
 *   const outcome = await transport.request(subject, data, timeoutMs, hop?.headers);
 *   endHop(hop);
 * } catch (err) { endHop(hop, err); throw err; }
 * ```
 */
export {
  activeTracer,
  callInHop,
  endHop,
  endHopWith,
  errorType,
  Hop,
  OutboundHop,
  runInHop,
  setHopAttribute,
  tracingEnabled,
} from "./hop.js";
export {
  startCallSpan,
  startEnqueueSpan,
  startEventSpan,
  startJobSpan,
  startPublishSpan,
  startTellSpan,
  startTurnSpan,
} from "./hops.js";
export {
  endHttpServerSpan,
  type HttpHeaders,
  startHttpServerSpan,
  startWebSocketFrameSpan,
  traceparentOf,
} from "./http.js";
export { callMetrics, inboundTracing, outboundTracing } from "./interceptors.js";
export * from "./metrics.js";
export {
  extractContext,
  injectContext,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  traceIdsOf,
} from "./propagation.js";
export { startTelemetry, type Telemetry, type TelemetryOptions } from "./sdk.js";
export * from "./semconv.js";
