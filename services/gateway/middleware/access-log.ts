/** One log line per finished request: method, route, status, duration, principal, request id. */

import type { Logger } from "troupe";
import type { Middleware } from "./types.js";

export function accessLog(logger: Logger): Middleware {
  return {
    name: "accessLog",
    register(app) {
      app.addHook("onResponse", (req, reply, done) => {
        logger.info("http request", {
          requestId: req.id,
          method: req.method,
          route: req.routeOptions.url ?? "unmatched",
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          principal: req.principal?.id,
        });
        done();
      });
    },
  };
}
