/**
 * Upgrade requests go through Fastify like any request, so that every middleware (request id,
 * trace context, authentication, tenant router, throttle...) runs before a socket is accepted: a
 * refusal (401, 403, 404, 503...) is an ordinary HTTP problem response, written on the raw socket,
 * which is then closed. The WebSocket route's handler takes the socket over with
 * {@link pendingUpgrade} and ws's `handleUpgrade` (the shape @fastify/websocket uses).
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "troupe";

export interface PendingUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

const PENDING = Symbol("troupe.gateway.upgrade");

type UpgradeRequest = IncomingMessage & { [PENDING]?: PendingUpgrade };

/** The socket of a request that asked for a WebSocket, until a handler takes it over. */
export function pendingUpgrade(req: IncomingMessage): PendingUpgrade | undefined {
  return (req as UpgradeRequest)[PENDING];
}

/** Dispatches the server's upgrade requests through the app's routes and hooks. */
export function routeUpgrades(app: FastifyInstance, logger: Logger): () => void {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (err) => logger.debug("websocket upgrade: socket error", { err }));
    if (req.method !== "GET") {
      // An upgrade with a body: Node no longer parses the rest, so no route could read it.
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    (req as UpgradeRequest)[PENDING] = { socket, head };
    const res = new ServerResponse(req);
    // Whatever answer the routes give (a refusal): send it, then close; the socket is not reused.
    res.once("finish", () => socket.destroy());
    try {
      res.assignSocket(socket as Socket);
      app.routing(req, res);
    } catch (err) {
      logger.warn("websocket upgrade failed", { err });
      socket.destroy();
    }
  };
  app.server.on("upgrade", onUpgrade);
  return () => app.server.off("upgrade", onUpgrade);
}
