/**
 * What a client whose HTTP request never became a request gets: a problem body, like every other
 * refusal of the gateway, instead of Fastify's default JSON. Node raises these before any route or
 * hook runs (its `clientError` event), so they are answered on the raw socket:
 *
 * | Node's error                  | status | code                        |
 * | ----------------------------- | ------ | --------------------------- |
 * | ERR_HTTP_REQUEST_TIMEOUT      | 408    | GATEWAY_REQUEST_TIMEOUT     |
 * | HPE_HEADER_OVERFLOW           | 431    | GATEWAY_HEADERS_TOO_LARGE   |
 * | anything else (a parse error) | 400    | GATEWAY_BAD_REQUEST         |
 *
 * The request timeout matters on a busy machine: Node's `requestTimeout` (headers + body, counted
 * from the request's first byte) may fire before the gateway's own body timer, which starts only
 * when the handler runs; both must give the same answer.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "troupe";
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError } from "./errors.js";
import { problemOf } from "./problems.js";

export function clientErrorHandler(
  logger: Logger,
  limits: { readonly headersTimeoutMs: number; readonly bodyTimeoutMs: number },
): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody to answer.
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const refusal =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new RequestTimeoutError(
            `the request did not arrive within ${limits.headersTimeoutMs + limits.bodyTimeoutMs} ms`,
            { details: { headersTimeoutMs: limits.headersTimeoutMs, bodyTimeoutMs: limits.bodyTimeoutMs } },
          )
        : err.code === "HPE_HEADER_OVERFLOW"
          ? new HeadersTooLargeError("the request's header block is too large")
          : new BadRequestError("the request is not valid HTTP/1.1");
    logger.debug("client error", { code: err.code, refused: refusal.code });
    if (socket.writable) {
      const { status, headers, body } = problemOf(refusal, "", "");
      const text = JSON.stringify(body);
      const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`, "Connection: close"];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      lines.push(`Content-Length: ${Buffer.byteLength(text)}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n${text}`);
    }
    socket.destroy(err);
  };
}
