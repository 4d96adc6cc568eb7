/**
 * Content negotiation on `Accept` (RFC 9110 §12.5.1): a route says which media types it produces
 * (route `config.produces`; default JSON), and a request whose `Accept` admits none of them is
 * refused with 406 before anything runs. No `Accept`, or `*\/*`, admits everything; `q=0` excludes.
 * Problem bodies are `application/problem+json` whatever the request accepts (RFC 9457 allows it).
 *
 * @example
 * ```ts
 * acceptable("text/html, application/*;q=0.5", ["application/json"]); // true
 * acceptable("text/html", ["application/json"]);                       // false -> 406
 * ```
 */
import type { FastifyInstance } from "fastify";
import { JSON_TYPE } from "./body.js";
import { NotAcceptableError } from "./errors.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Media types the route's successful responses have (for 406). Default: application/json. */
    produces?: readonly string[];
  }
}

const DEFAULT_PRODUCES: readonly string[] = [JSON_TYPE];
const MAX_ACCEPT_LENGTH = 2048;

/** Whether an `Accept` header value admits one of `produces`. */
export function acceptable(accept: string | undefined, produces: readonly string[]): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  if (accept.length > MAX_ACCEPT_LENGTH) return true; // not worth refusing: the default is served
  for (const range of accept.split(",")) {
    const [media = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    if (media === "") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (media === "*/*") return true;
    const [type, subtype] = media.split("/");
    for (const produced of produces) {
      const [ptype, psubtype] = produced.split("/");
      if (type === ptype && (subtype === "*" || subtype === psubtype)) return true;
    }
  }
  return false;
}

/** Refuses a request whose `Accept` the matched route cannot satisfy (406 problem). */
export function registerAcceptCheck(app: FastifyInstance): void {
  app.addHook("preValidation", (req, _reply, done) => {
    const produces = req.routeOptions.config?.produces ?? DEFAULT_PRODUCES;
    const accept = req.headers.accept;
    if (acceptable(Array.isArray(accept) ? accept.join(",") : accept, produces)) return done();
    done(
      new NotAcceptableError(`this route answers only with ${produces.join(" or ")}`, {
        details: { produces: produces.join(", ") },
      }),
    );
  });
}
