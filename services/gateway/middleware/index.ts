/** The gateway's middleware: the interface, the built-ins, and the default order. */

import type { Logger } from "troupe";
import type { Authenticator } from "../auth/principal.js";
import { accessLog } from "./access-log.js";
import { authenticate, insecureDev } from "./authenticate.js";
import { type CorsOptions, cors } from "./cors.js";
import { httpMetrics } from "./http-metrics.js";
import { requestId } from "./request-id.js";
import { traceContext } from "./trace-context.js";
import type { Middleware } from "./types.js";

export { accessLog } from "./access-log.js";
export { AUTHENTICATE, authenticate, insecureDev, PUBLIC_PATHS } from "./authenticate.js";
export { type CorsOptions, cors } from "./cors.js";
export { httpMetrics } from "./http-metrics.js";
export { REQUEST_ID_HEADER, requestId, requestIdOf } from "./request-id.js";
export { type TenantRouterOptions, tenantRouter } from "./tenant-router.js";
export { THROTTLE, throttle } from "./throttle.js";
export { traceContext } from "./trace-context.js";
export type { CallAdmission, Middleware } from "./types.js";

export interface DefaultMiddlewareOptions {
  logger: Logger;
  /** The authenticator, or `"insecure-dev"` for none. */
  auth: Authenticator | "insecure-dev";
  cors?: CorsOptions;
}

/**
 * The built-ins in their default order: request id, trace context, metrics, access log, CORS
 * (when configured), authentication. Put your own after them, or build the list yourself to reorder.
 */
export function defaultMiddleware(options: DefaultMiddlewareOptions): Middleware[] {
  return [
    requestId(),
    traceContext(),
    httpMetrics(),
    accessLog(options.logger),
    ...(options.cors ? [cors(options.cors)] : []),
    options.auth === "insecure-dev" ? insecureDev() : authenticate(options.auth),
  ];
}
