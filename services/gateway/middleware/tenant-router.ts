/**
 * An example of a custom middleware (see docs/gateway.md): routes a request to a tenant named by a
 * header, and refuses principals that may not act for it. Handlers read `req.tenant`; the actor
 * routes prefix the actor id with it (`<tenant>:<id>`), so tenants never share an actor.
 *
 * @example
 * ```ts
 * tenantRouter({ header: "x-tenant", allowed: { "shop-web": ["acme", "globex"] } })
 * ```
 */
import { BadRequestError, ForbiddenError } from "../errors.js";
import type { Middleware } from "./types.js";

export interface TenantRouterOptions {
  /** The header naming the tenant. Default `x-tenant`. */
  header?: string;
  /** Tenants each principal may act for; a principal not listed may act for none. */
  allowed: Readonly<Record<string, readonly string[]>>;
}

const TENANT = /^[a-z0-9-]{1,32}$/;

export function tenantRouter(options: TenantRouterOptions): Middleware {
  const header = (options.header ?? "x-tenant").toLowerCase();
  return {
    name: "tenantRouter",
    register(app) {
      app.addHook("preHandler", async (req) => {
        if (!req.routeOptions.url?.startsWith("/v1/")) return;
        const raw = req.headers[header];
        const tenant = Array.isArray(raw) ? raw[0] : raw;
        if (!tenant || !TENANT.test(tenant)) {
          throw new BadRequestError(`the ${header} header must name a tenant (1-32 of a-z, 0-9, -)`);
        }
        const principal = req.principal?.id ?? "";
        if (!options.allowed[principal]?.includes(tenant)) {
          throw new ForbiddenError(`${principal || "this caller"} may not act for tenant ${tenant}`, {
            details: { tenant },
          });
        }
        req.tenant = tenant;
      });
    },
  };
}
