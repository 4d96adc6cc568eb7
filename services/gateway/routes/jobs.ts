/**
 * Durable jobs over HTTP:
 *
 * - `POST /v1/jobs/{type}/{id}/{method}` stores a job (at-least-once) and answers `202` with
 *   `Location: /v1/jobs/{jobId}`; an `Idempotency-Key` makes a retried POST return the same job.
 * - `GET /v1/jobs/{jobId}?waitMs=` answers `{ status: "succeeded", result }`, `{ status: "failed",
 *   error }` or `{ status: "pending" }` (not finished, unknown, or its result expired), waiting up
 *   to `waitMs` (capped) for it to finish: a long poll.
 */
import type { FastifyInstance } from "fastify";
import {
  JobDeadLetteredError,
  JobResultUnavailableError,
  UnknownActorTypeError,
  UnknownMethodError,
} from "troupe";
import { enqueueByName, isJobId, runInHop } from "troupe/internal";
import { BadRequestError, RouteNotFoundError } from "../errors.js";
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

interface EnqueueRoute {
  Params: { type: string; id: string; method: string };
  Body: unknown;
}

interface JobRoute {
  Params: { jobId: string };
  Querystring: { waitMs?: number };
}

const IDEMPOTENCY_KEY = "idempotency-key";

export function registerJobRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { mesh, limits } = deps;
  app.post<EnqueueRoute>(
    "/v1/jobs/:type/:id/:method",
    {
      config: { produces: PRODUCES },
      schema: {
        summary: "Enqueue a durable job (at-least-once)",
        tags: ["jobs"],
        consumes: CONSUMES,
        params: {
          type: "object",
          required: ["type", "id", "method"],
          properties: { type: TYPE_PARAM, id: ID_PARAM, method: METHOD_PARAM },
        },
        headers: {
          type: "object",
          properties: { [IDEMPOTENCY_KEY]: { type: "string", minLength: 1, maxLength: 256 } },
        },
        response: {
          202: {
            description: "Stored; poll the Location for the result",
            type: "object",
            properties: { jobId: { type: "string" }, duplicate: { type: "boolean" } },
          },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const { type, id, method } = req.params;
      // An unknown type must not create a queue: only types some host registered take jobs.
      const record = await mesh.registry.lookup(type);
      if (!record) {
        throw new UnknownActorTypeError(`no host serves actor type ${type}`, {
          details: { actorType: type },
        });
      }
      if (!record.handlers.includes(method)) {
        throw new UnknownMethodError(`${type} has no method ${method}`, {
          details: { actorType: type, method },
        });
      }
      const key = req.headers[IDEMPOTENCY_KEY];
      const caller = callerOf(req);
      const job = await runInHop(req.traceHop, () =>
        enqueueByName(mesh, type, actorIdOf(req, id), method, argsOf(req.body), {
          ...(caller ? { caller } : {}),
          // A tenant's keys are its own: the same key from two tenants names two jobs.
          ...(typeof key === "string" ? { key: req.tenant ? `${req.tenant}:${key}` : key } : {}),
        }),
      );
      reply.header("location", `/v1/jobs/${job.id}`);
      return sendValue(req, reply, 202, { jobId: job.id, duplicate: job.duplicate });
    },
  );

  app.get<JobRoute>(
    "/v1/jobs/:jobId",
    {
      config: { produces: PRODUCES },
      schema: {
        summary: "A job's status and result; ?waitMs= waits for it to finish",
        tags: ["jobs"],
        params: {
          type: "object",
          required: ["jobId"],
          properties: { jobId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } },
        },
        querystring: {
          type: "object",
          properties: { waitMs: { type: "integer", minimum: 0 } },
        },
        response: {
          200: {
            description: "succeeded (with result), failed (with error) or pending",
            type: "object",
            properties: {
              jobId: { type: "string" },
              status: { type: "string", enum: ["succeeded", "failed", "pending"] },
              result: {},
              error: { type: "object" },
            },
          },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const { jobId } = req.params;
      if (!isJobId(jobId)) throw new RouteNotFoundError(`"${jobId}" is not a job id`);
      const waitMs = Math.min(req.query.waitMs ?? 0, limits.maxWaitMs);
      if (!Number.isFinite(waitMs)) throw new BadRequestError("waitMs must be a number");
      try {
        const result = await mesh.job(jobId).result({ timeoutMs: waitMs });
        return sendValue(req, reply, 200, { jobId, status: "succeeded", result });
      } catch (err) {
        if (err instanceof JobResultUnavailableError) {
          return sendValue(req, reply, 200, { jobId, status: "pending" });
        }
        if (err instanceof JobDeadLetteredError) {
          const remote = err.remote;
          const exposed = remote.code !== "TROUPE_ACTOR_METHOD_FAILED";
          return sendValue(req, reply, 200, {
            jobId,
            status: "failed",
            error: {
              code: remote.code,
              message: exposed ? remote.message : "the actor method failed",
              attempts: err.attempts,
            },
          });
        }
        throw err;
      }
    },
  );
}
