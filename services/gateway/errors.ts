import { TroupeError } from "troupe";
/**
 * Errors the gateway itself raises (the HTTP request was refused before any mesh call). Like every
 * Troupe error: one class per failure, a stable `code`, the retry decision in `retryable`. Their
 * HTTP status is in `./problems.ts`, with every other code's.
 */

/** No credentials, or credentials that do not verify (bad key, bad signature, expired token). */
export class UnauthenticatedError extends TroupeError {
  readonly code = "GATEWAY_UNAUTHENTICATED";
  readonly retryable = false;
}

/** The principal is known but may not do this (e.g. a tenant it does not belong to). */
export class ForbiddenError extends TroupeError {
  readonly code = "GATEWAY_FORBIDDEN";
  readonly retryable = false;
}

/** The HTTP request is malformed: bad JSON, a parameter that fails its schema, a bad header. */
export class BadRequestError extends TroupeError {
  readonly code = "GATEWAY_BAD_REQUEST";
  readonly retryable = false;
}

/** No route for this method and path. */
export class RouteNotFoundError extends TroupeError {
  readonly code = "GATEWAY_NOT_FOUND";
  readonly retryable = false;
}

/** A request body in a format the gateway does not read (only JSON and msgpack). */
export class UnsupportedMediaTypeError extends TroupeError {
  readonly code = "GATEWAY_UNSUPPORTED_MEDIA_TYPE";
  readonly retryable = false;
}

/** The client's `Accept` admits none of the media types the route answers with. */
export class NotAcceptableError extends TroupeError {
  readonly code = "GATEWAY_NOT_ACCEPTABLE";
  readonly retryable = false;
}

/** The client sent its body too slowly (slower than the body timeout). */
export class RequestTimeoutError extends TroupeError {
  readonly code = "GATEWAY_REQUEST_TIMEOUT";
  readonly retryable = true;
}

/** The request's header block is larger than the server accepts (Node's `maxHeaderSize`). */
export class HeadersTooLargeError extends TroupeError {
  readonly code = "GATEWAY_HEADERS_TOO_LARGE";
  readonly retryable = false;
}

/** The gateway is shutting down (or not connected yet): try another instance. */
export class GatewayUnavailableError extends TroupeError {
  readonly code = "GATEWAY_UNAVAILABLE";
  readonly retryable = true;
}

/** A plain HTTP request to the WebSocket route: it must ask to upgrade (`Upgrade: websocket`). */
export class UpgradeRequiredError extends TroupeError {
  readonly code = "GATEWAY_UPGRADE_REQUIRED";
  readonly retryable = false;
}

/**
 * A WebSocket frame over one of its socket's limits (calls in flight, subscriptions): retry once
 * an earlier call answered (or after unsubscribing). `details`: `{ limit, max }`.
 */
export class SocketLimitError extends TroupeError {
  readonly code = "GATEWAY_SOCKET_LIMIT";
  readonly retryable = true;
}

/** The gateway's own error classes, for the status table's completeness check. */
export const GATEWAY_ERRORS = [
  UnauthenticatedError,
  ForbiddenError,
  BadRequestError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
  NotAcceptableError,
  RequestTimeoutError,
  HeadersTooLargeError,
  GatewayUnavailableError,
  UpgradeRequiredError,
  SocketLimitError,
] as const;
