/**
 * One authenticated WebSocket: its calls, its event subscriptions, its limits and its keepalive.
 *
 * - Calls run like the HTTP call route's: the socket's principal as caller, its tenant scoping,
 *   the throttle middleware's decision per frame, a SERVER span per frame; at most
 *   `wsMaxInFlight` at once (a call past it: GATEWAY_SOCKET_LIMIT error frame, nothing sent).
 * - Outbound backpressure: past `wsEventBufferBytes` queued, event frames are dropped and counted
 *   per subscription; a `dropped` frame with the count precedes the subscription's next event (or
 *   goes out as soon as the queue is below the mark again). Past `wsMaxBufferedBytes`, the socket
 *   is closed with 4008 (a result is never dropped).
 * - Keepalive: a ping every `wsKeepaliveMs`; a socket that did not answer the previous one is
 *   terminated.
 * - Drain: new calls and subscriptions are refused (GATEWAY_UNAVAILABLE), subscriptions end,
 *   calls in flight finish and answer, then the socket closes with 1001.
 */
import type { Logger, Mesh } from "troupe";
import { endHttpServerSpan, runInHop, startWebSocketFrameSpan, traceparentOf } from "troupe/internal";
import { WebSocket } from "ws";
import { BadRequestError, GatewayUnavailableError, SocketLimitError } from "../errors.js";
import type { GatewayLimits } from "../limits.js";
import { type LiveEvents, liveEventsQuery, openLiveEvents } from "../live-events.js";
import type { CallAdmission } from "../middleware/index.js";
import { problemOf } from "../problems.js";
import {
  type CallFrame,
  CLOSE_GOING_AWAY,
  CLOSE_SLOW_CONSUMER,
  type FrameId,
  parseFrame,
  type SubscribeFrame,
  WS_ROUTE,
} from "./protocol.js";

/** What the upgrade request established for the socket's whole life. */
export interface SocketContext {
  /** The upgrade request's id (problem bodies carry it as `requestId`). */
  readonly requestId: string;
  /** The principal's id: the caller of every call. */
  readonly caller: string | undefined;
  /** The actor id a call addresses (tenant-scoped when a tenant middleware set one). */
  actorId(id: string): string;
  /** The throttle middleware's judgement of a call, when it is installed. */
  readonly admitCall: ((actorType: string, method: string) => CallAdmission) | undefined;
}

export interface SessionDeps {
  readonly mesh: Mesh;
  readonly limits: GatewayLimits;
  readonly logger: Logger;
}

interface Subscription {
  live: LiveEvents | undefined;
  /** Events dropped since the last `dropped` frame. */
  dropped: number;
  /** Events that arrived before `subscribed` went out (sent right after it). */
  early: string[] | undefined;
  closed: boolean;
}

export class WebSocketSession {
  private readonly calls = new Set<FrameId>();
  private readonly subs = new Map<FrameId, Subscription>();
  private draining = false;
  private answeredPing = true;
  private dropsPending = false;
  private readonly keepalive: NodeJS.Timeout;
  /** Resolves when the socket closed. */
  readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SocketContext,
    private readonly deps: SessionDeps,
  ) {
    const { limits } = deps;
    this.closed = new Promise((resolve) => ws.once("close", () => resolve()));
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("pong", () => {
      this.answeredPing = true;
    });
    ws.on("error", (err) => deps.logger.debug("websocket error", { requestId: ctx.requestId, err }));
    ws.once("close", () => this.onClose());
    this.keepalive = setInterval(() => {
      if (!this.answeredPing) {
        deps.logger.info("websocket: no pong within the keepalive interval, closing", {
          requestId: ctx.requestId,
        });
        ws.terminate();
        return;
      }
      this.answeredPing = false;
      ws.ping();
    }, limits.wsKeepaliveMs);
    this.send({
      op: "welcome",
      principal: ctx.caller ?? null,
      limits: {
        maxInFlight: limits.wsMaxInFlight,
        maxSubscriptions: limits.wsMaxSubscriptions,
        maxFrameBytes: limits.wsMaxFrameBytes,
        keepaliveMs: limits.wsKeepaliveMs,
      },
    });
  }

  /** Calls and subscriptions open now. */
  get load(): { calls: number; subscriptions: number } {
    return { calls: this.calls.size, subscriptions: this.subs.size };
  }

  /** Refuses new work, ends subscriptions, lets calls in flight answer, then closes with 1001. */
  drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      for (const sub of this.subs.values()) this.end(sub);
      this.subs.clear();
      this.closeIfIdle();
    }
    return this.closed;
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.sendError(null, new BadRequestError("binary frames are not supported: send JSON text frames"));
      return;
    }
    const parsed = parseFrame(textOf(data), this.deps.limits.maxDepth);
    if ("error" in parsed) {
      this.sendError(parsed.id, parsed.error);
      return;
    }
    const { frame } = parsed;
    switch (frame.op) {
      case "call":
        this.call(frame);
        return;
      case "subscribe":
        void this.subscribe(frame);
        return;
      case "unsubscribe":
        this.unsubscribe(frame.id);
        return;
      case "ping":
        this.send({ op: "pong", id: frame.id });
        return;
    }
  }

  private call(frame: CallFrame): void {
    const { limits, mesh, logger } = this.deps;
    if (this.draining) {
      this.sendError(frame.id, shuttingDown());
      return;
    }
    if (this.calls.has(frame.id)) {
      this.sendError(frame.id, new BadRequestError("a call with this id is still in flight"));
      return;
    }
    if (this.calls.size >= limits.wsMaxInFlight) {
      this.sendError(
        frame.id,
        new SocketLimitError(`this socket already has ${limits.wsMaxInFlight} calls in flight`, {
          details: { limit: "wsMaxInFlight", max: limits.wsMaxInFlight },
        }),
      );
      return;
    }
    const admission = this.ctx.admitCall?.(frame.actorType, frame.method);
    if (admission && !admission.allowed) {
      this.sendError(frame.id, admission.error);
      return;
    }
    this.calls.add(frame.id);
    const hop = startWebSocketFrameSpan("call", WS_ROUTE, frame.trace);
    const timeoutMs = Math.min(frame.timeoutMs ?? limits.defaultCallTimeoutMs, limits.maxCallTimeoutMs);
    const caller = this.ctx.caller;
    runInHop(hop, () =>
      mesh.callByName(frame.actorType, this.ctx.actorId(frame.actorId), frame.method, frame.args, {
        timeoutMs,
        // One client's throttle must not pace the gateway's other clients (as on the HTTP route).
        adaptive: false,
        ...(caller ? { caller } : {}),
      }),
    )
      .then(
        (result) => {
          endHttpServerSpan(hop, 200);
          const traceparent = traceparentOf(hop);
          this.send({
            op: "result",
            id: frame.id,
            result: result ?? null,
            ...(traceparent ? { traceparent } : {}),
          });
        },
        (err: unknown) => {
          const problem = problemOf(err, WS_ROUTE, this.ctx.requestId);
          endHttpServerSpan(hop, problem.status, problem.body.code);
          if (problem.status >= 500) {
            logger.error("websocket call failed", {
              requestId: this.ctx.requestId,
              actorType: frame.actorType,
              method: frame.method,
              status: problem.status,
              err,
            });
          }
          this.sendError(frame.id, err, hop);
        },
      )
      .finally(() => {
        if (admission?.allowed) admission.release();
        this.calls.delete(frame.id);
        if (this.draining) this.closeIfIdle();
      });
  }

  private async subscribe(frame: SubscribeFrame): Promise<void> {
    const { limits, mesh, logger } = this.deps;
    if (this.draining) return this.sendError(frame.id, shuttingDown());
    if (this.subs.has(frame.id)) {
      return this.sendError(frame.id, new BadRequestError("a subscription with this id is open"));
    }
    if (this.subs.size >= limits.wsMaxSubscriptions) {
      return this.sendError(
        frame.id,
        new SocketLimitError(`this socket already has ${limits.wsMaxSubscriptions} subscriptions`, {
          details: { limit: "wsMaxSubscriptions", max: limits.wsMaxSubscriptions },
        }),
      );
    }
    let filter: ReturnType<typeof liveEventsQuery>;
    try {
      filter = liveEventsQuery(frame.pattern, frame.filter);
    } catch (err) {
      return this.sendError(frame.id, err);
    }
    const sub: Subscription = { live: undefined, dropped: 0, early: [], closed: false };
    this.subs.set(frame.id, sub);
    let live: LiveEvents;
    try {
      live = await openLiveEvents(mesh, frame.pattern, filter, logger, (topic, event) =>
        this.deliver(frame.id, sub, topic, event),
      );
    } catch (err) {
      if (this.subs.get(frame.id) === sub) this.subs.delete(frame.id);
      return this.sendError(frame.id, err);
    }
    sub.live = live;
    // Unsubscribed (or the socket closed, or drained) while the subscription was being made.
    if (sub.closed) return live.close();
    this.send({ op: "subscribed", id: frame.id });
    const early = sub.early ?? [];
    sub.early = undefined;
    for (const text of early) this.sendText(text);
  }

  private unsubscribe(id: FrameId): void {
    const sub = this.subs.get(id);
    if (!sub) {
      this.sendError(id, new BadRequestError("no subscription with this id"));
      return;
    }
    this.subs.delete(id);
    this.end(sub);
    this.send({ op: "unsubscribed", id });
  }

  private deliver(id: FrameId, sub: Subscription, topic: string, event: unknown): void {
    if (sub.closed || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.deps.limits.wsEventBufferBytes) {
      if (!this.dropsPending) {
        this.deps.logger.warn("websocket: client reads too slowly, dropping events", {
          requestId: this.ctx.requestId,
          bufferedBytes: this.ws.bufferedAmount,
        });
      }
      sub.dropped += 1;
      this.dropsPending = true;
      return;
    }
    if (sub.dropped > 0) this.announceDrops(id, sub);
    const text = JSON.stringify({ op: "event", id, topic, data: event ?? null });
    if (sub.early) sub.early.push(text);
    else this.sendText(text);
  }

  private announceDrops(id: FrameId, sub: Subscription): void {
    const count = sub.dropped;
    sub.dropped = 0;
    this.send({ op: "dropped", id, count });
  }

  /** After each write: once the queue is below the event mark again, announce what was dropped. */
  private readonly onWritten = (): void => {
    if (!this.dropsPending || this.ws.bufferedAmount > this.deps.limits.wsEventBufferBytes) return;
    this.dropsPending = false;
    for (const [id, sub] of this.subs) if (sub.dropped > 0) this.announceDrops(id, sub);
  };

  private sendError(id: FrameId | null, err: unknown, hop?: Parameters<typeof traceparentOf>[0]): void {
    const problem = problemOf(err, WS_ROUTE, this.ctx.requestId);
    const traceparent = traceparentOf(hop);
    this.send({ op: "error", id, error: problem.body, ...(traceparent ? { traceparent } : {}) });
  }

  private send(frame: Record<string, unknown>): void {
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      // A result JSON cannot hold (a BigInt, a cycle): the call's answer is a 500 problem instead.
      const id = (frame.id ?? null) as FrameId | null;
      this.deps.logger.error("websocket: frame not serializable", { requestId: this.ctx.requestId, err });
      text = JSON.stringify({ op: "error", id, error: problemOf(err, WS_ROUTE, this.ctx.requestId).body });
    }
    this.sendText(text);
  }

  private sendText(text: string): void {
    const { ws } = this;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.deps.limits.wsMaxBufferedBytes) {
      this.deps.logger.warn("websocket: client too slow, closing it (4008)", {
        requestId: this.ctx.requestId,
        bufferedBytes: ws.bufferedAmount,
      });
      ws.close(CLOSE_SLOW_CONSUMER, "slow consumer");
      return;
    }
    ws.send(text, this.onWritten);
  }

  private end(sub: Subscription): void {
    sub.closed = true;
    sub.live?.close();
  }

  private closeIfIdle(): void {
    if (this.calls.size === 0 && this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(CLOSE_GOING_AWAY, "gateway shutting down");
    }
  }

  private onClose(): void {
    clearInterval(this.keepalive);
    for (const sub of this.subs.values()) this.end(sub);
    this.subs.clear();
  }
}

function shuttingDown(): GatewayUnavailableError {
  return new GatewayUnavailableError("the gateway is shutting down: reconnect to another instance");
}

function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
