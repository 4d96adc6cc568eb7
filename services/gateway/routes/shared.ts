/** What every route needs: the mesh, the limits, the logger; and the path-parameter schemas. */
import type { FastifyRequest } from "fastify";
import type { Logger, Mesh } from "troupe";
import type { GatewayLimits } from "../limits.js";

export interface RouteDeps {
  readonly mesh: Mesh;
  readonly limits: GatewayLimits;
  readonly logger: Logger;
  /** False once the gateway started shutting down. */
  readonly isServing: () => boolean;
}

export const TYPE_PARAM = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } as const;
export const ID_PARAM = {
  type: "string",
  minLength: 1,
  maxLength: 1024,
  // no control characters
  pattern: "^[^\\u0000-\\u001f\\u007f]+$",
} as const;
export const METHOD_PARAM = { type: "string", pattern: "^[A-Za-z_$][A-Za-z0-9_$]{0,255}$" } as const;

export const CONSUMES = ["application/json", "application/msgpack"];
/** What routes answering with a value produce (`Accept` decides which; see accept.ts). */
export const PRODUCES = ["application/json", "application/msgpack"] as const;

export const PROBLEM_RESPONSE = {
  description: "RFC 9457 problem (application/problem+json)",
  type: "object",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    code: { type: "string" },
    retryable: { type: "boolean" },
    requestId: { type: "string" },
  },
} as const;

/** The body as call arguments: an array is the argument list, anything else one argument. */
export function argsOf(body: unknown): unknown[] {
  if (body === undefined) return [];
  return Array.isArray(body) ? body : [body];
}

/** The actor id the request addresses: tenant-scoped when a tenant middleware set `req.tenant`. */
export function actorIdOf(req: FastifyRequest, id: string): string {
  return req.tenant ? `${req.tenant}:${id}` : id;
}

/** The principal's id, the `caller` of the request's mesh calls. */
export function callerOf(req: FastifyRequest): string | undefined {
  return req.principal?.id;
}
