/**
 * Events over HTTP:
 *
 * - `POST /v1/events/{topic}`: a durable publish (stored in JetStream before the `202`); an
 *   `Idempotency-Key` becomes the message id, so a retried POST is stored once (`duplicate: true`).
 * - `GET /v1/events/{pattern}?filter=`: live events as Server-Sent Events (`event: <topic>`,
 *   `data: <json>`), matching a NATS-style pattern (`orders.*`, `orders.>`) and an optional filter
 *   expression (`troupe subs tail`'s). A core subscription: it takes nothing from the durable
 *   subscribers, and a client only sees events published while it is connected.
 */
import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import { publish } from "troupe";
import { endHttpServerSpan, runInHop } from "troupe/internal";
import { GatewayUnavailableError } from "../errors.js";
import { sendValue } from "../format.js";
import { liveEventsQuery, openLiveEvents } from "../live-events.js";
import { CONSUMES, callerOf, PROBLEM_RESPONSE, PRODUCES, type RouteDeps } from "./shared.js";

interface PublishRoute {
  Params: { topic: string };
  Body: unknown;
}

interface StreamRoute {
  Params: { pattern: string };
  Querystring: { filter?: string };
}

const IDEMPOTENCY_KEY = "idempotency-key";

/** The open event streams, so that shutdown can end them. */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  get size(): number {
    return this.open.size;
  }
  add(res: ServerResponse): void {
    this.open.add(res);
    res.once("close", () => this.open.delete(res));
  }
  endAll(): void {
    for (const res of this.open) res.end();
  }
}

export function registerEventRoutes(app: FastifyInstance, deps: RouteDeps, streams: EventStreams): void {
  const { mesh, limits, logger } = deps;

  app.post<PublishRoute>(
    "/v1/events/:topic",
    {
      config: { produces: PRODUCES },
      schema: {
        summary: "Publish an event (durable)",
        tags: ["events"],
        consumes: CONSUMES,
        params: {
          type: "object",
          required: ["topic"],
          properties: { topic: { type: "string", minLength: 1, maxLength: 256 } },
        },
        headers: {
          type: "object",
          properties: { [IDEMPOTENCY_KEY]: { type: "string", minLength: 1, maxLength: 256 } },
        },
        response: {
          202: {
            description: "Stored in the events stream",
            type: "object",
            properties: {
              topic: { type: "string" },
              seq: { type: "integer" },
              duplicate: { type: "boolean" },
            },
          },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const key = req.headers[IDEMPOTENCY_KEY];
      const caller = callerOf(req);
      const receipt = await runInHop(req.traceHop, () =>
        publish(mesh, req.params.topic, req.body ?? null, {
          ...(typeof key === "string" ? { msgId: key } : {}),
          ...(caller ? { caller } : {}),
        }),
      );
      return sendValue(req, reply, 202, {
        topic: receipt.topic,
        seq: receipt.seq,
        duplicate: receipt.duplicate ?? false,
      });
    },
  );

  app.get<StreamRoute>(
    "/v1/events/:pattern",
    {
      config: { produces: ["text/event-stream"] },
      schema: {
        summary: "Live events matching a pattern, as Server-Sent Events",
        tags: ["events"],
        params: {
          type: "object",
          required: ["pattern"],
          properties: { pattern: { type: "string", minLength: 1, maxLength: 256 } },
        },
        querystring: {
          type: "object",
          properties: { filter: { type: "string", maxLength: 2000 } },
        },
        response: {
          200: { description: "text/event-stream: `event: <topic>`, `data: <event as JSON>`" },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const { pattern } = req.params;
      const filter = liveEventsQuery(pattern, req.query.filter);
      if (streams.size >= limits.maxEventStreams) {
        throw new GatewayUnavailableError(
          `this gateway already serves ${limits.maxEventStreams} event streams`,
        );
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      });
      streams.add(res);
      let next = 0;
      const live = await openLiveEvents(mesh, pattern, filter, logger, (topic, event) => {
        if (res.writableLength > limits.maxEventStreamBuffer) {
          logger.warn("event stream: client too slow, closing it", { requestId: req.id, pattern });
          res.end();
          return;
        }
        res.write(`id: ${++next}\nevent: ${topic}\ndata: ${JSON.stringify(event ?? null)}\n\n`);
      });
      // Subscribed before the client learns the stream is open: an event published after the
      // first line arrives is delivered.
      res.write(": subscribed\n\n");
      const heartbeat = setInterval(() => res.write(": keepalive\n\n"), limits.eventStreamHeartbeatMs);
      res.once("close", () => {
        clearInterval(heartbeat);
        live.close();
        // A stream the client closed never finishes, so Fastify's onResponse hooks do not run.
        if (!res.writableFinished) endHttpServerSpan(req.traceHop, 200);
      });
    },
  );
}
