/**
 * `X-Request-Id` on every response: the client's own id when it sent a usable one (1-128 of
 * `[A-Za-z0-9._:-]`), else a fresh UUID (the gateway's `genReqId`). Problem bodies carry it too.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Middleware } from "./types.js";

export const REQUEST_ID_HEADER = "x-request-id";
const USABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the incoming id when usable, else a UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === "string" && USABLE.test(incoming) ? incoming : randomUUID();
}

export function requestId(): Middleware {
  return {
    name: "requestId",
    register(app) {
      app.addHook("onRequest", (req, reply, done) => {
        reply.header(REQUEST_ID_HEADER, req.id);
        done();
      });
    },
  };
}
