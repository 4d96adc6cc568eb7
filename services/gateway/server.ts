/**
 * The gateway: a stateless Fastify server in front of the mesh. Fastify because it brings what a
 * front door needs and Troupe should not hand-write: route schemas that validate requests and
 * generate the OpenAPI document (@fastify/swagger), ordered hooks for middleware, encapsulated
 * plugins (@fastify/cors), and one of the fastest Node HTTP stacks (see docs/gateway.md).
 *
 * @example
 * ```ts
 * const gateway = await startGateway({ mesh, auth: credentials({ apiKeys }), port: 8080 });
 * console.log(gateway.url);
 * await gateway.close();
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import {
  ConfigurationError,
  consoleLogger,
  type HostThrottlingOptions,
  type Logger,
  type Mesh,
  PayloadTooLargeError,
  TroupeError,
} from "troupe";
import type { LocalEnforcer } from "troupe/internal";
import { registerAcceptCheck } from "./accept.js";
import type { Authenticator } from "./auth/principal.js";
import { registerBodyParsers } from "./body.js";
import { clientErrorHandler } from "./client-error.js";
import { startEdgeThrottling } from "./edge-throttling.js";
import {
  BadRequestError,
  GatewayUnavailableError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from "./errors.js";
import { DEFAULT_LIMITS, type GatewayLimits } from "./limits.js";
import {
  AUTHENTICATE,
  type CorsOptions,
  defaultMiddleware,
  type Middleware,
  requestIdOf,
} from "./middleware/index.js";
import { problemOf } from "./problems.js";
import { registerActorRoutes } from "./routes/actors.js";
import { EventStreams, registerEventRoutes } from "./routes/events.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerJobRoutes } from "./routes/jobs.js";
import type { RouteDeps } from "./routes/shared.js";
import { registerWebSocketRoute, routeUpgrades, WebSocketSessions } from "./websocket/index.js";

export interface GatewayOptions {
  mesh: Mesh;
  /** Who may call: an authenticator, or `"insecure-dev"` (everyone, as `anonymous`; logged loudly). */
  auth: Authenticator | "insecure-dev";
  /**
   * The middleware, in order. Default: `defaultMiddleware(...)` (request id, trace context, access
   * log, CORS when configured, authentication). It must contain an authentication middleware.
   */
  middleware?: Middleware[];
  cors?: CorsOptions;
  limits?: Partial<GatewayLimits>;
  logger?: Logger;
  /** Port to listen on (0: any free port). Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1 (use 0.0.0.0 in a container). */
  host?: string;
  /**
   * Refuse actor calls over a throttle policy at the edge, before NATS (429 + Retry-After +
   * RateLimit headers), with shares from this control plane (see docs/gateway.md). Default none:
   * only the hosts enforce (their 429s are mapped all the same).
   */
  throttling?: HostThrottlingOptions;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly port: number;
  /** The edge enforcer, when `throttling` is set (its counters, the policies in force). */
  readonly enforcer: LocalEnforcer | undefined;
  /**
   * Stops taking requests (readiness turns 503), ends event streams, drains WebSockets (their calls
   * in flight answer, then they close with 1001), waits for in-flight requests.
   */
  close(): Promise<void>;
}

/** Builds the Fastify app without listening (tests use `app.inject`). */
export async function buildGateway(
  options: GatewayOptions,
): Promise<{ app: FastifyInstance; stop: () => void; enforcer: LocalEnforcer | undefined }> {
  const logger = options.logger ?? consoleLogger();
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const chosen =
    options.middleware ??
    defaultMiddleware({ logger, auth: options.auth, ...(options.cors ? { cors: options.cors } : {}) });
  if (!chosen.some((m) => m.name === AUTHENTICATE)) {
    throw new ConfigurationError(
      "the gateway middleware has no authentication step: add authenticate(...) (or insecureDev() for local development)",
    );
  }
  const edge = options.throttling ? startEdgeThrottling(options.throttling, logger) : undefined;
  const middleware = edge ? edge.middleware(chosen) : chosen;
  if (options.auth === "insecure-dev") {
    logger.warn(
      "!!! INSECURE: the gateway runs WITHOUT AUTHENTICATION (--insecure-dev); anyone who reaches it can call every actor. Local development only. !!!",
    );
  }

  let serving = true;
  const streams = new EventStreams();
  const sockets = new WebSocketSessions();
  const app = Fastify({
    logger: false,
    genReqId: requestIdOf,
    routerOptions: { maxParamLength: 1100 },
    bodyLimit: limits.maxBodyBytes,
    // Requests arriving while closing get a 503 problem from the hook below, not Fastify's own body.
    return503OnClosing: false,
    // Node's own slow-client limits: headers within headersTimeoutMs, the whole request within
    // both timeouts (else a 408 problem and close: client-error.ts).
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer(
        {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
          connectionsCheckingInterval: Math.max(
            100,
            Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4,
          ),
        },
        handler,
      ),
    clientErrorHandler: clientErrorHandler(logger, limits),
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      sendProblem(req, reply, new BadRequestError(`bad request: ${err.message}`), logger);
    },
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false } },
  });
  app.decorateRequest("principal", undefined);
  app.decorateRequest("traceHop", undefined);
  app.decorateRequest("tenant", undefined);
  app.decorateRequest("admitCall", undefined);
  const stopRoutingUpgrades = routeUpgrades(app, logger);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Troupe gateway",
        version: "1",
        description: "HTTP front door of a Troupe actor mesh. Errors are RFC 9457 problem bodies.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  registerBodyParsers(app, {
    maxBytes: limits.maxBodyBytes,
    maxDepth: limits.maxDepth,
    bodyTimeoutMs: limits.bodyTimeoutMs,
  });
  app.addHook("onRequest", (req, _reply, done) => {
    if (!serving && req.routeOptions.url !== "/healthz" && req.routeOptions.url !== "/readyz") {
      done(new GatewayUnavailableError("the gateway is shutting down: use another instance"));
    } else done();
  });
  for (const m of middleware) await m.register(app);
  registerAcceptCheck(app);

  app.setErrorHandler((err, req, reply) => sendProblem(req, reply, asTroupeError(err), logger));
  app.setNotFoundHandler((req, reply) =>
    sendProblem(req, reply, new RouteNotFoundError(`no route for ${req.method} ${pathOf(req)}`), logger),
  );

  const deps: RouteDeps = { mesh: options.mesh, limits, logger, isServing: () => serving };
  registerHealthRoutes(app, deps);
  registerActorRoutes(app, deps);
  registerJobRoutes(app, deps);
  registerEventRoutes(app, deps, streams);
  registerWebSocketRoute(app, deps, sockets);
  app.addHook("preClose", async () => {
    serving = false;
    streams.endAll();
    await sockets.drainAll();
  });
  app.addHook("onClose", async () => {
    stopRoutingUpgrades();
    await edge?.stop();
  });
  await app.ready();
  return {
    app,
    enforcer: edge?.enforcer,
    stop: () => {
      serving = false;
    },
  };
}

/** Builds the gateway and listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { app, stop, enforcer } = await buildGateway(options);
  await app.listen({ port: options.port ?? 8080, host: options.host ?? "127.0.0.1" });
  const address = app.server.address();
  const port = address && typeof address === "object" ? address.port : (options.port ?? 8080);
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  return {
    app,
    enforcer,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: async () => {
      stop();
      await app.close();
    },
  };
}

/** Fastify's own errors as the gateway's typed ones; Troupe errors as they are. */
function asTroupeError(err: unknown): unknown {
  if (err instanceof TroupeError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) return new BadRequestError(e.message ?? "the request does not match its schema");
  if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return new UnsupportedMediaTypeError("send the body as application/json or application/msgpack");
  }
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new PayloadTooLargeError("the body is too large");
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new BadRequestError(e.message ?? "bad request");
  }
  return err;
}

function pathOf(req: FastifyRequest): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return (q < 0 ? url : url.slice(0, q)).slice(0, 512);
}

function sendProblem(req: FastifyRequest, reply: FastifyReply, err: unknown, logger: Logger): void {
  const problem = problemOf(err, pathOf(req), String(req.id));
  if (problem.status >= 500) {
    logger.error("gateway request failed", {
      requestId: req.id,
      method: req.method,
      route: req.routeOptions?.url,
      status: problem.status,
      err,
    });
  }
  if (reply.sent || reply.raw.headersSent) return;
  // The rest of a body that was too slow or too large is not wanted: close instead of reading on.
  if (problem.status === 408 || problem.status === 413) reply.header("connection", "close");
  reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body));
}
