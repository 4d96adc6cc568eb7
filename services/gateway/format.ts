/**
 * Response formats: JSON unless the client asks for msgpack (`Accept: application/msgpack`, or a
 * msgpack request body with no JSON in its `Accept`). Problem bodies are always JSON
 * (`application/problem+json`, RFC 9457).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { encode } from "troupe/internal";
import { JSON_TYPE, MSGPACK } from "./body.js";

export type Format = "json" | "msgpack";

export function responseFormat(req: FastifyRequest): Format {
  const accept = String(req.headers.accept ?? "").toLowerCase();
  if (accept.includes(MSGPACK)) return "msgpack";
  if (accept.includes(JSON_TYPE)) return "json";
  return String(req.headers["content-type"] ?? "")
    .toLowerCase()
    .startsWith(MSGPACK)
    ? "msgpack"
    : "json";
}

/** Sends `value` in the format the client asked for. `undefined` is sent as JSON `null`. */
export function sendValue(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  value: unknown,
): FastifyReply {
  reply.code(status);
  if (responseFormat(req) === "msgpack") {
    return reply.type(MSGPACK).send(Buffer.from(encode(value ?? null)));
  }
  return reply.type(`${JSON_TYPE}; charset=utf-8`).send(JSON.stringify(value ?? null));
}
