/**
 * Authentication: every request except the public paths (health, readiness, the OpenAPI document)
 * needs credentials the {@link Authenticator} accepts; its principal becomes `req.principal` and the
 * `caller` of the request's mesh calls. `insecureDev()` lets everything in as `anonymous` (local
 * development only: the gateway logs it loudly at start).
 */
import type { Authenticator, Principal } from "../auth/principal.js";
import type { Middleware } from "./types.js";

export const PUBLIC_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/openapi.json"]);

export const AUTHENTICATE = "authenticate";

export function authenticate(authenticator: Authenticator): Middleware {
  return {
    name: AUTHENTICATE,
    register(app) {
      app.addHook("onRequest", async (req) => {
        if (PUBLIC_PATHS.has(req.routeOptions.url ?? "")) return;
        req.principal = await authenticator.authenticate(req.headers);
      });
    },
  };
}

const ANONYMOUS: Principal = { id: "anonymous", via: "insecure-dev" };

/** No authentication: every request is `anonymous`. Only for local development. */
export function insecureDev(): Middleware {
  return {
    name: AUTHENTICATE,
    register(app) {
      app.addHook("onRequest", async (req) => {
        req.principal = ANONYMOUS;
      });
    },
  };
}
