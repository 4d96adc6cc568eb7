/**
 * Request count and duration by method, route template and status (`troupe.gateway.requests`,
 * `troupe.gateway.request.duration`), exported with the runtime's metrics on the Prometheus port.
 * Costs one check per request when no meter provider is registered.
 */

import { recordHttpRequest } from "troupe/internal";
import type { Middleware } from "./types.js";

export function httpMetrics(): Middleware {
  return {
    name: "httpMetrics",
    register(app) {
      app.addHook("onResponse", (req, reply, done) => {
        recordHttpRequest(
          req.method,
          req.routeOptions.url ?? "unmatched",
          reply.statusCode,
          reply.elapsedTime,
        );
        done();
      });
    },
  };
}
