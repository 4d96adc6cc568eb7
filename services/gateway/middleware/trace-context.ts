/**
 * W3C trace context in and out: a SERVER span per request, child of the client's `traceparent`
 * (runtime/telemetry does the OpenTelemetry part); the request's mesh calls run inside it, and the
 * response carries the span's `traceparent`. Does nothing when tracing is off.
 */

import { endHttpServerSpan, startHttpServerSpan, traceparentOf } from "troupe/internal";
import type { Middleware } from "./types.js";

export function traceContext(): Middleware {
  return {
    name: "traceContext",
    register(app) {
      app.addHook("onRequest", (req, reply, done) => {
        const hop = startHttpServerSpan(req.method, req.routeOptions.url ?? "unmatched", req.headers);
        req.traceHop = hop;
        const traceparent = traceparentOf(hop);
        if (traceparent) reply.header("traceparent", traceparent);
        done();
      });
      app.addHook("onResponse", (req, reply, done) => {
        endHttpServerSpan(req.traceHop, reply.statusCode);
        done();
      });
    },
  };
}
