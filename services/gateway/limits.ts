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
});
