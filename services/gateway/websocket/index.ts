/**
 * `GET /v1/ws`: calls and live events over one authenticated WebSocket (protocol in
 * ./protocol.ts, one socket's behaviour in ./session.ts, docs/websocket.md for users).
 *
 * The upgrade request passes through every middleware first (./upgrade.ts): without credentials it
 * is a 401 problem and no socket is opened. The socket then lives with what the upgrade
 * established: the principal (caller of every call), the tenant, the throttle middleware's
 * per-call judgement.
 */
import type { FastifyInstance } from "fastify";
import { endHttpServerSpan } from "troupe/internal";
import { type ServerOptions, WebSocketServer } from "ws";
import { GatewayUnavailableError, UpgradeRequiredError } from "../errors.js";
import { actorIdOf, callerOf, PROBLEM_RESPONSE, type RouteDeps } from "../routes/shared.js";
import { WS_ROUTE, WS_SUBPROTOCOL } from "./protocol.js";
import { WebSocketSession } from "./session.js";
import { pendingUpgrade } from "./upgrade.js";

export {
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  CLOSE_SLOW_CONSUMER,
  type ClientFrame,
  type FrameId,
  parseFrame,
  WS_ROUTE,
  WS_SUBPROTOCOL,
} from "./protocol.js";
export { routeUpgrades } from "./upgrade.js";

/** The open sockets, so that shutdown can drain them. */
export class WebSocketSessions {
  private readonly open = new Set<WebSocketSession>();
  get size(): number {
    return this.open.size;
  }
  add(session: WebSocketSession): void {
    this.open.add(session);
    void session.closed.then(() => this.open.delete(session));
  }
  /** Drains every socket: calls in flight answer, then each closes with 1001. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.open].map((s) => s.drain()));
  }
}

export function registerWebSocketRoute(
  app: FastifyInstance,
  deps: RouteDeps,
  sessions: WebSocketSessions,
): void {
  const { limits } = deps;
  // ws 8.23 takes `closeTimeout` (how long a close handshake may take); @types/ws 8.18 lacks it.
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: limits.wsMaxFrameBytes,
    closeTimeout: limits.wsKeepaliveMs,
    // The subprotocol is optional; a client that names protocols must name troupe.v1 among them.
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  };
  const wss = new WebSocketServer(options);
  app.get(
    WS_ROUTE,
    {
      schema: {
        summary: "Calls and live events over one WebSocket",
        description:
          "Upgrade to a WebSocket (subprotocol troupe.v1, optional) with the same credentials as any route. JSON text frames: call, subscribe, unsubscribe, ping from the client; welcome, result, error, subscribed, event, dropped, unsubscribed, pong from the gateway (docs/websocket.md). A plain GET is a 426.",
        tags: ["websocket"],
        response: {
          101: { description: "Switching Protocols: the socket is open" },
          "4xx": PROBLEM_RESPONSE,
          "5xx": PROBLEM_RESPONSE,
        },
      },
    },
    async (req, reply) => {
      const pending = pendingUpgrade(req.raw);
      const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
      if (!pending || upgrade !== "websocket") {
        throw new UpgradeRequiredError("this route only opens WebSockets (Upgrade: websocket)");
      }
      if (sessions.size >= limits.maxWebSockets) {
        throw new GatewayUnavailableError(`this gateway already serves ${limits.maxWebSockets} WebSockets`);
      }
      const context = {
        requestId: String(req.id),
        caller: callerOf(req),
        actorId: (id: string) => actorIdOf(req, id),
        admitCall: req.admitCall,
      };
      reply.hijack();
      wss.handleUpgrade(req.raw, pending.socket, pending.head, (ws) => {
        endHttpServerSpan(req.traceHop, 101);
        const session = new WebSocketSession(ws, context, deps);
        sessions.add(session);
        // Shutdown started during the handshake: this socket drains at once.
        if (!deps.isServing()) void session.drain();
      });
    },
  );
}
