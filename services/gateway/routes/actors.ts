/** `POST /v1/actors/{type}/{id}/{method}`: a request-reply call; the body holds the arguments. */
import type { FastifyInstance } from "fastify";
import { runInHop } from "troupe/internal";
import { deadlineOf, REQUEST_TIMEOUT_HEADER } from "../deadline.js";
import { sendValue } from "../format.js";
import {
  actorIdOf,
  argsOf,
  CONSUMES,
  callerOf,
  ID_PARAM,
  METHOD_PARAM,
  PROBLEM_RESPONSE,
  PRODUCES,
  type RouteDeps,
  TYPE_PARAM,
} from "./shared.js";

interface CallRoute {
  Params: { type: string; id: string; method: string };
  Querystring: { timeoutMs?: string };
  Body: unknown;
}

export function registerActorRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { mesh, limits } = deps;
  app.post<CallRoute>(
    "/v1/actors/:type/:id/:method",
    {
      config: { produces: PRODUCES },
      schema: {
        summary: "Call an actor method (request-reply)",
        description:
          "The body is the argument list (a JSON array) or a single argument. The deadline comes from the Request-Timeout header or ?timeoutMs (500, 500ms, 2s), capped by the gateway.",
        tags: ["actors"],
        consumes: CONSUMES,
        params: {
          type: "object",
          required: ["type", "id", "method"],
          properties: { type: TYPE_PARAM, id: ID_PARAM, method: METHOD_PARAM },
        },
        querystring: {
          type: "object",
          properties: { timeoutMs: { type: "string", maxLength: 20 } },
        },
        headers: {
          type: "object",
          properties: { [REQUEST_TIMEOUT_HEADER]: { type: "string", maxLength: 20 } },
        },
        response: {
          200: { description: "The method's return value (JSON or msgpack)" },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const { type, id, method } = req.params;
      const timeoutMs = deadlineOf(
        req.headers[REQUEST_TIMEOUT_HEADER],
        req.query.timeoutMs,
        limits.defaultCallTimeoutMs,
        limits.maxCallTimeoutMs,
      );
      const caller = callerOf(req);
      const result = await runInHop(req.traceHop, () =>
        mesh.callByName(type, actorIdOf(req, id), method, argsOf(req.body), {
          timeoutMs,
          // The gateway calls for many clients: one client's throttle must not pace the others
          // (each gets its own 429 with Retry-After instead).
          adaptive: false,
          ...(caller ? { caller } : {}),
        }),
      );
      return sendValue(req, reply, 200, result);
    },
  );
}
