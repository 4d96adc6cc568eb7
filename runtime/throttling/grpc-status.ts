/**
 * Throttle state in gRPC terms: a refusal is `RESOURCE_EXHAUSTED` with the trailer
 * `grpc-retry-pushback-ms` (honoured by grpc-js's built-in retries when a service config enables
 * them), for gRPC front doors (the control plane's own API, a gRPC gateway).
 */
import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import type { ThrottledError } from "../errors.js";

export const RETRY_PUSHBACK_HEADER = "grpc-retry-pushback-ms";

export function grpcStatusOf(err: ThrottledError): Pick<StatusObject, "code" | "details" | "metadata"> {
  const metadata = new Metadata();
  metadata.set(RETRY_PUSHBACK_HEADER, String(Math.max(0, Math.ceil(err.retryAfterMs))));
  return { code: status.RESOURCE_EXHAUSTED, details: err.message, metadata };
}
