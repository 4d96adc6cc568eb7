/**
 * A gateway middleware: a named step that adds Fastify hooks (`onRequest`, `preHandler`, `onSend`,
 * `onResponse`, `onError`) to the gateway. Middleware run in the order of the list given to
 * `startGateway({ middleware })`: Fastify runs hooks of one kind in the order they were added.
 *
 * @example
 * ```ts
 * const stamp: Middleware = {
 *   name: "stamp",
 *   register(app) {
 *     app.addHook("onRequest", async (req, reply) => { reply.header("x-stamp", "1"); });
 *   },
 * };
 * ```
 */
import type { FastifyInstance } from "fastify";
import type { Hop } from "troupe/internal";
import type { Principal } from "../auth/principal.js";

/** A judgement on one call (the throttle middleware's): admitted with a slot to release, or refused. */
export type CallAdmission =
  | { readonly allowed: true; release(): void }
  | { readonly allowed: false; readonly error: Error };

export interface Middleware {
  readonly name: string;
  register(app: FastifyInstance): void | Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the `authenticate` middleware. */
    principal: Principal | undefined;
    /** Set by the `traceContext` middleware: the request's SERVER span. */
    traceHop: Hop | undefined;
    /** Set by custom middleware (e.g. the tenant router); handlers may read it. */
    tenant: string | undefined;
    /**
     * Set by the `throttle` middleware on the WebSocket route: judges each call frame of the socket
     * as it would judge an HTTP call (same caller, tenant, type and method).
     */
    admitCall: ((actorType: string, method: string) => CallAdmission) | undefined;
  }
}
