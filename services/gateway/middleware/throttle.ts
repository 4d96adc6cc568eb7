/**
 * Throttling at the edge: the gateway's own {@link LocalEnforcer} (shares from the control plane,
 * like a host's, planned among gateways only) decides on every actor call before anything is sent
 * to NATS. A refused request gets the `ThrottledError`'s 429 with `Retry-After`, `RateLimit-Policy`
 * and `RateLimit` (the status table); an admitted one frees its concurrency slot when its response
 * ends. Hosts still enforce: the edge only spares the mesh the requests it would refuse anyway.
 *
 * On the WebSocket route it judges each call frame instead (`req.admitCall`), the same way.
 *
 * The turn it judges is the call's: hop `call`, the route's type and method, the principal as
 * caller and the tenant from `req.tenant` (the tenant router) or the tenant header. Jobs and events
 * are not refused at the edge: over a limit they are held back in their queue by the hosts.
 *
 * @example
 * ```ts
 * const enforcer = new LocalEnforcer(logger);
 * startGateway({ mesh, auth, middleware: [...defaultMiddleware({ logger, auth }), throttle(enforcer)] });
 * ```
 * (`startGateway({ throttling: { controlPlane, token } })` does this and connects the enforcer.)
 */
import type { LocalEnforcer } from "troupe/internal";
import { DEFAULT_TENANT_HEADER } from "troupe/internal";
import { WS_ROUTE } from "../websocket/protocol.js";
import type { Middleware } from "./types.js";

export const THROTTLE = "throttle";
const CALL_ROUTE = "/v1/actors/:type/:id/:method";

export function throttle(enforcer: LocalEnforcer, options: { tenantHeader?: string } = {}): Middleware {
  const tenantHeader = (options.tenantHeader ?? DEFAULT_TENANT_HEADER).toLowerCase();
  return {
    name: THROTTLE,
    register(app) {
      app.addHook("preHandler", (req, reply, done) => {
        const route = req.routeOptions.url;
        if (route !== CALL_ROUTE && route !== WS_ROUTE) return done();
        const header = req.headers[tenantHeader];
        const decide = (actorType: string, method: string) =>
          enforcer.decide({
            caller: req.principal?.id,
            tenant: req.tenant ?? (Array.isArray(header) ? header[0] : header),
            actorType,
            method,
            hop: "call",
            headers: {
              get: (name) => {
                const value = req.headers[name.toLowerCase()];
                return Array.isArray(value) ? value[0] : value;
              },
            },
          });
        // A WebSocket: every call frame is judged when it arrives, with the upgrade's principal,
        // tenant and headers.
        if (route === WS_ROUTE) {
          req.admitCall = decide;
          return done();
        }
        const params = req.params as { type: string; method: string };
        const decision = decide(params.type, params.method);
        if (!decision.allowed) return done(decision.error);
        reply.raw.once("close", decision.release);
        done();
      });
    },
  };
}
