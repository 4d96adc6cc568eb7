/** The gateway's limits and their defaults; every one of them is an option. */
export interface GatewayLimits {
  /** Largest request body. Default 1 MiB (the codec's own limit). */
  maxBodyBytes: number;
  /** Deepest nesting of a JSON or msgpack body. Default 64 (the codec's). */
  maxDepth: number;
  /** Longest a client may take to send its headers (Node closes the connection with a 408). Default 10 s. */
  headersTimeoutMs: number;
  /** Longest a client may take to send its body (408 problem). Default 10 s. */
  bodyTimeoutMs: number;
  /** Deadline of a call that names none. Default 10 s. */
  defaultCallTimeoutMs: number;
  /** The longest deadline a request may ask for. Default 60 s. */
  maxCallTimeoutMs: number;
  /** The longest `?waitMs=` of a job long-poll. Default 30 s. */
  maxWaitMs: number;
  /** Open Server-Sent-Event streams at most (503 past it). Default 1000. */
  maxEventStreams: number;
  /** Bytes an event stream may have queued for a slow client before it is closed. Default 1 MiB. */
  maxEventStreamBuffer: number;
  /** Comment line sent on idle event streams so proxies keep them open. Default 15 s. */
  eventStreamHeartbeatMs: number;
  /** Open WebSockets at most (503 before the upgrade past it). Default 1000. */
  maxWebSockets: number;
  /** Calls in flight per WebSocket; a call frame past it gets a GATEWAY_SOCKET_LIMIT error frame. Default 64. */
  wsMaxInFlight: number;
  /** Event subscriptions per WebSocket (GATEWAY_SOCKET_LIMIT past it). Default 32. */
  wsMaxSubscriptions: number;
  /** Largest frame a client may send; a larger one closes the socket with 1009. Default 1 MiB. */
  wsMaxFrameBytes: number;
  /**
   * Bytes queued for a slow client past which event frames are dropped (counted, then announced
   * with a `dropped` frame once the client catches up). Default 1 MiB.
   */
  wsEventBufferBytes: number;
  /**
   * Bytes queued for a client past which the socket is closed with 4008 (results cannot be
   * dropped). Default 8 MiB.
   */
  wsMaxBufferedBytes: number;
  /**
   * Ping interval: a socket that has not answered the previous ping is closed (terminated); also
   * how long a close handshake may take. Default 15 s.
   */
  wsKeepaliveMs: number;
}

export const DEFAULT_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxDepth: 64,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  defaultCallTimeoutMs: 10_000,
  maxCallTimeoutMs: 60_000,
  maxWaitMs: 30_000,
  maxEventStreams: 1000,
  maxEventStreamBuffer: 1024 * 1024,
  eventStreamHeartbeatMs: 15_000,
  maxWebSockets: 1000,
  wsMaxInFlight: 64,
  wsMaxSubscriptions: 32,
  wsMaxFrameBytes: 1024 * 1024,
  wsEventBufferBytes: 1024 * 1024,
  wsMaxBufferedBytes: 8 * 1024 * 1024,
  wsKeepaliveMs: 15_000,
});
