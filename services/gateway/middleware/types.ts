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
  }
}
