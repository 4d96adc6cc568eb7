/**
 * CORS through @fastify/cors. Off unless origins are given: a browser app on another origin must be
 * named explicitly (`--cors-origin https://shop.example`).
 */
import fastifyCors from "@fastify/cors";
import type { Middleware } from "./types.js";

export interface CorsOptions {
  /** Allowed origins (exact), or `true` for any (local development only). */
  origins: string[] | true;
}

export function cors(options: CorsOptions): Middleware {
  return {
    name: "cors",
    async register(app) {
      await app.register(fastifyCors, {
        origin: options.origins,
        exposedHeaders: [
          "x-request-id",
          "traceparent",
          "location",
          "retry-after",
          "ratelimit",
          "ratelimit-policy",
        ],
        allowedHeaders: [
          "authorization",
          "content-type",
          "accept",
          "x-api-key",
          "x-request-id",
          "idempotency-key",
          "request-timeout",
          "traceparent",
          "tracestate",
        ],
      });
    },
  };
}
