/** What `connect()` accepts (see mesh.ts), with the defaults it applies. */
import type { OutboundInterceptor } from "./interceptors/index.js";
import type { Logger } from "./log.js";
import type { OutboxOptions } from "./outbox/index.js";
import type { NatsOptions } from "./transport/index.js";

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 15_000;

export interface ConnectOptions extends NatsOptions {
  /**
   * Subject and bucket prefix; meshes with different prefixes on one NATS do not see each other.
   * Default `TROUPE_PREFIX`, else the dev mesh's when connecting to the dev mesh of this folder
   * (`troupe dev --prefix`), else `troupe`.
   */
  prefix?: string;
  /** Deadline of calls that set none (per call, per type, then this). Default 10 s. */
  defaultTimeoutMs?: number;
  /** Replicas of the JetStream buckets and streams Troupe creates. Default 1; use 3 on a 3-node cluster. */
  replicas?: number;
  logger?: Logger;
  /**
   * Deliver calls and tells to actors hosted on this same connection in-process, skipping the
   * broker (same bytes, same checks, same turn). Default true; false sends everything through NATS.
   */
  localDelivery?: boolean;
  /**
   * A call whose host has sent neither its reply nor a keepalive for this long fails with
   * `HostUnresponsiveError` instead of waiting for its deadline: the host died, was paused or was
   * cut off. Hosts send keepalives every `keepaliveEveryMs` (host option, default 2 000 ms); this
   * must be well above it (a keepalive announcing a longer interval stretches it to 3 intervals).
   * Only calls with a longer timeout are affected. Default 15 000 ms.
   */
  keepaliveTimeoutMs?: number;
  /**
   * Who this client is: sent with every call, tell, enqueue and publish (unless a call names
   * another `caller`) and read by hosts as `ctx.caller` in their interceptors. Default: none (no
   * header is sent). 1-256 printable ASCII characters.
   */
  clientId?: string;
  /**
   * Outbound interceptors, outermost first, around every call, tell, enqueue and publish this
   * client makes (see docs/interceptors.md). The built-ins `outboundTracing` and `callMetrics` go
   * first unless listed here (then they run where they are listed) or `builtinInterceptors` is
   * false. A hop skips the chain while it has nothing to do (no interceptor of yours, no tracer or
   * meter registered).
   */
  interceptors?: OutboundInterceptor[];
  /** Install the built-in outbound interceptors `interceptors` does not name (tracing, metrics). Default true. */
  builtinInterceptors?: boolean;
  /**
   * A durable local outbox (docs/patterns/sparse-connectivity.md): every tell, enqueue and publish
   * is written to it before the call returns and forwarded in order while connected; `connect()`
   * returns even when NATS is unreachable; calls fail at once with `OfflineError` while offline.
   */
  outbox?: OutboxOptions;
  /**
   * Pace calls to an actor type once it has refused one with `ThrottledError`: a client-side
   * adaptive rate per type (docs/patterns/throttling.md) that backs off on throttles and recovers
   * while calls succeed, so a client over its limit sends little more than its limit. Default true;
   * false: calls are never paced (a ref may still opt in with `retry: { adaptive: true }`). A
   * process that calls on behalf of many clients (the HTTP gateway) turns it off.
   */
  adaptiveRate?: boolean;
}
