import { TerminalError, TroupeError } from "troupe";
/**
 * From a Troupe error code to an HTTP status and an RFC 9457 problem body. The table is the code:
 *
 * | code                                   | status | notes                                        |
 * | -------------------------------------- | ------ | -------------------------------------------- |
 * | GATEWAY_BAD_REQUEST                    | 400    | bad JSON/msgpack, schema, header             |
 * | TROUPE_MALFORMED_MESSAGE               | 400    |                                              |
 * | TROUPE_CONFIGURATION                   | 400    | bad topic, bad option from the request       |
 * | GATEWAY_UNAUTHENTICATED                | 401    | + `WWW-Authenticate`                         |
 * | GATEWAY_FORBIDDEN                      | 403    |                                              |
 * | GATEWAY_NOT_FOUND                      | 404    | no such route                                |
 * | TROUPE_UNKNOWN_ACTOR_TYPE              | 404    |                                              |
 * | TROUPE_UNKNOWN_METHOD                  | 404    |                                              |
 * | TROUPE_JOB_RESULT_UNAVAILABLE          | 404    | (the job route answers "pending" itself)     |
 * | GATEWAY_NOT_ACCEPTABLE                 | 406    | `Accept` admits nothing the route produces   |
 * | GATEWAY_REQUEST_TIMEOUT                | 408    | headers or body sent too slowly              |
 * | TROUPE_PAYLOAD_TOO_LARGE               | 413    |                                              |
 * | GATEWAY_UNSUPPORTED_MEDIA_TYPE         | 415    |                                              |
 * | GATEWAY_HEADERS_TOO_LARGE              | 431    | header block over the server's limit         |
 * | GATEWAY_UPGRADE_REQUIRED               | 426    | + `Upgrade: websocket` (plain GET /v1/ws)     |
 * | TROUPE_TERMINAL                        | 422    | the handler said "retrying will not help"    |
 * | TROUPE_THROTTLED                              | 429    | + `Retry-After`, `RateLimit-Policy`, `RateLimit` |
 * | GATEWAY_SOCKET_LIMIT                   | 429    | a WebSocket's in-flight or subscription limit |
 * | TROUPE_ACTOR_METHOD_FAILED             | 500    | detail hidden: an untyped throw is a bug     |
 * | TROUPE_JOB_FAILED, _JOB_DEAD_LETTERED  | 500    |                                              |
 * | TROUPE_INTERCEPTOR_FAILED              | 500    | detail hidden: a bug in an interceptor       |
 * | TROUPE_STATE_NOT_STORABLE, _NOT_LOADABLE | 500  | the actor's state, not the request, is at fault |
 * | any code not in this table             | 500    |                                              |
 * | TROUPE_OVERLOADED, _ACTOR_UNAVAILABLE, _HOST_SHUTTING_DOWN, _STALE_ACTIVATION, _STATE_STORE_FAILED, _CIRCUIT_OPEN, _QUEUE_FULL, _PUBLISH_FAILED, _JETSTREAM_UNAVAILABLE, _CONNECTION_CLOSED, _CONNECTION_FAILED, _NATS_SERVER_UNAVAILABLE, GATEWAY_UNAVAILABLE | 503 | + `Retry-After` |
 * | TROUPE_DEADLINE_EXCEEDED               | 504    |                                              |
 * | TROUPE_HOST_UNRESPONSIVE               | 504    | the call may or may not have run             |
 *
 * The body: `{ type, title, status, detail, instance, code, retryable, requestId, details }` as
 * `application/problem+json`. A stack trace never goes into it; errors that are not Troupe errors
 * become a 500 whose detail says only "internal error" (the gateway logs the real one).
 */

export interface StatusMapping {
  readonly status: number;
  readonly title: string;
  /** Send `Retry-After` (from `details.retryAfterMs`, else one second). */
  readonly retryAfter?: boolean;
  /** Hide the error's message from the client (it may carry internals). */
  readonly hideDetail?: boolean;
}

const unavailable = (title: string): StatusMapping => ({ status: 503, title, retryAfter: true });

/** Every Troupe and gateway error code and its HTTP status. */
export const STATUS_BY_CODE: Readonly<Record<string, StatusMapping>> = Object.freeze({
  GATEWAY_BAD_REQUEST: { status: 400, title: "Bad request" },
  TROUPE_MALFORMED_MESSAGE: { status: 400, title: "Malformed message" },
  TROUPE_CONFIGURATION: { status: 400, title: "Invalid request" },
  GATEWAY_UNAUTHENTICATED: { status: 401, title: "Unauthenticated" },
  GATEWAY_FORBIDDEN: { status: 403, title: "Forbidden" },
  GATEWAY_NOT_FOUND: { status: 404, title: "Not found" },
  TROUPE_UNKNOWN_ACTOR_TYPE: { status: 404, title: "Unknown actor type" },
  TROUPE_UNKNOWN_METHOD: { status: 404, title: "Unknown method" },
  TROUPE_JOB_RESULT_UNAVAILABLE: { status: 404, title: "Job result unavailable" },
  GATEWAY_NOT_ACCEPTABLE: { status: 406, title: "Not acceptable" },
  GATEWAY_REQUEST_TIMEOUT: { status: 408, title: "Request timeout" },
  TROUPE_PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  GATEWAY_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  GATEWAY_HEADERS_TOO_LARGE: { status: 431, title: "Request header fields too large" },
  GATEWAY_UPGRADE_REQUIRED: { status: 426, title: "Upgrade required" },
  TROUPE_TERMINAL: { status: 422, title: "Request cannot be processed" },
  TROUPE_THROTTLED: { status: 429, title: "Too many requests", retryAfter: true },
  GATEWAY_SOCKET_LIMIT: { status: 429, title: "Socket limit reached" },
  TROUPE_ACTOR_METHOD_FAILED: { status: 500, title: "Actor method failed", hideDetail: true },
  TROUPE_JOB_FAILED: { status: 500, title: "Job failed" },
  TROUPE_JOB_DEAD_LETTERED: { status: 500, title: "Job failed" },
  TROUPE_INTERCEPTOR_FAILED: { status: 500, title: "Interceptor failed", hideDetail: true },
  TROUPE_STATE_NOT_STORABLE: { status: 500, title: "Actor state cannot be stored" },
  TROUPE_STATE_NOT_LOADABLE: { status: 500, title: "Actor state cannot be loaded" },
  TROUPE_OVERLOADED: unavailable("Overloaded"),
  TROUPE_ACTOR_UNAVAILABLE: unavailable("Actor unavailable"),
  TROUPE_HOST_SHUTTING_DOWN: unavailable("Host shutting down"),
  TROUPE_STALE_ACTIVATION: unavailable("Actor moved"),
  TROUPE_STATE_STORE_FAILED: unavailable("State store unavailable"),
  TROUPE_CIRCUIT_OPEN: unavailable("Circuit open"),
  TROUPE_QUEUE_FULL: unavailable("Job queue full"),
  TROUPE_PUBLISH_FAILED: unavailable("Publish not acknowledged"),
  TROUPE_JETSTREAM_UNAVAILABLE: unavailable("JetStream unavailable"),
  TROUPE_CONNECTION_CLOSED: unavailable("Mesh connection closed"),
  TROUPE_CONNECTION_FAILED: unavailable("Mesh connection failed"),
  TROUPE_NATS_SERVER_UNAVAILABLE: unavailable("NATS unavailable"),
  GATEWAY_UNAVAILABLE: unavailable("Gateway unavailable"),
  TROUPE_DEADLINE_EXCEEDED: { status: 504, title: "Deadline exceeded" },
  TROUPE_HOST_UNRESPONSIVE: { status: 504, title: "Host unresponsive" },
});

const INTERNAL: StatusMapping = { status: 500, title: "Internal error", hideDetail: true };

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  retryable: boolean;
  requestId: string;
  details?: Record<string, unknown>;
}

export interface Problem {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: ProblemBody;
}

/** The mapping of an error: by code, then TerminalError subclasses (own codes) as 422. */
export function mappingOf(err: unknown): StatusMapping {
  if (!(err instanceof TroupeError)) return INTERNAL;
  const byCode = STATUS_BY_CODE[err.code];
  if (byCode) return byCode;
  if (err instanceof TerminalError) return STATUS_BY_CODE.TROUPE_TERMINAL as StatusMapping;
  return { status: 500, title: "Error" };
}

/** The problem response for `err` on the request `instance` (its path) with id `requestId`. */
export function problemOf(err: unknown, instance: string, requestId: string): Problem {
  const mapping = mappingOf(err);
  const troupe = err instanceof TroupeError ? err : undefined;
  const code = troupe?.code ?? "GATEWAY_INTERNAL";
  const body: ProblemBody = {
    type: `urn:troupe:problem:${code}`,
    title: mapping.title,
    status: mapping.status,
    detail: mapping.hideDetail || !troupe ? mapping.title.toLowerCase() : troupe.message,
    instance,
    code,
    retryable: troupe?.retryable ?? false,
    requestId,
  };
  const details = troupe && !mapping.hideDetail ? publicDetails(troupe) : undefined;
  if (details) body.details = details;
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE };
  if (mapping.retryAfter) headers["retry-after"] = String(retryAfterSeconds(troupe));
  if (code === "TROUPE_THROTTLED" && troupe) Object.assign(headers, rateLimitHeaders(troupe));
  if (mapping.status === 426) headers.upgrade = "websocket";
  if (mapping.status === 401) headers["www-authenticate"] = 'Bearer realm="troupe", ApiKey realm="troupe"';
  return { status: mapping.status, headers, body };
}

function publicDetails(err: TroupeError): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err.details)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Whole seconds to wait: `details.retryAfterMs` rounded up, at least 1. */
function retryAfterSeconds(err: TroupeError | undefined): number {
  const ms = Number(err?.details.retryAfterMs);
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : 1;
}

/**
 * `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) from a TROUPE_THROTTLED
 * error's details: `policy` (name), `limit` (quota), `remaining`, `retryAfterMs`, and
 * `windowMs` when the policy has a window.
 */
export function rateLimitHeaders(err: TroupeError): Record<string, string> {
  const d = err.details;
  const name =
    typeof d.policy === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(d.policy) ? d.policy : "default";
  const out: Record<string, string> = {};
  const limit = Number(d.limit);
  if (Number.isFinite(limit) && limit >= 0) {
    const window = Number(d.windowMs);
    const w = Number.isFinite(window) && window > 0 ? `;w=${Math.ceil(window / 1000)}` : "";
    out["ratelimit-policy"] = `"${name}";q=${Math.floor(limit)}${w}`;
  }
  const remaining = Number(d.remaining);
  if (Number.isFinite(remaining) && remaining >= 0) {
    out.ratelimit = `"${name}";r=${Math.floor(remaining)};t=${retryAfterSeconds(err)}`;
  }
  return out;
}
