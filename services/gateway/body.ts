/**
 * Reading request bodies: JSON (the default) and msgpack, nothing else (415). The raw stream is
 * read here rather than by Fastify so that three limits hold for both formats: the byte limit
 * (413, checked while reading, before any parse), the body timeout (408: a client that trickles
 * its body does not hold a connection forever) and the nesting depth (400: deep JSON would
 * overflow the parser's stack; msgpack gets the codec's structural pre-scan).
 */
import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";
import { PayloadTooLargeError, TroupeError } from "troupe";
import { decode } from "troupe/internal";
import { BadRequestError, RequestTimeoutError } from "./errors.js";

export const MSGPACK = "application/msgpack";
export const JSON_TYPE = "application/json";

export interface BodyLimits {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays/objects. */
  maxDepth: number;
  /** Longest a client may take to send its body, from the first byte of the request's body read. */
  bodyTimeoutMs: number;
}

/** Replaces Fastify's parsers with the two Troupe reads, under `limits`. */
export function registerBodyParsers(app: FastifyInstance, limits: BodyLimits): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, async (_req: unknown, payload: IncomingMessage) =>
    parseJson(await readBody(payload, limits), limits.maxDepth),
  );
  app.addContentTypeParser(MSGPACK, async (_req: unknown, payload: IncomingMessage) => {
    const bytes = await readBody(payload, limits);
    try {
      return decode(bytes, { maxBytes: limits.maxBytes, maxDepth: limits.maxDepth });
    } catch (err) {
      if (err instanceof TroupeError) throw err;
      throw new BadRequestError("the body is not valid msgpack", { cause: err });
    }
  });
}

/** Reads the whole body, refusing it past `maxBytes` or `bodyTimeoutMs`. */
export function readBody(stream: IncomingMessage, limits: BodyLimits): Promise<Uint8Array> {
  const declared = Number(stream.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    return Promise.reject(tooLarge(limits.maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      finish(
        new RequestTimeoutError(`the body did not arrive within ${limits.bodyTimeoutMs} ms`, {
          details: { bodyTimeoutMs: limits.bodyTimeoutMs },
        }),
      );
    }, limits.bodyTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) finish(tooLarge(limits.maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(new BadRequestError("the body could not be read", { cause: err }));
    function finish(err?: Error) {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      if (err) {
        // Stop reading; the reply goes out and the connection is closed (the rest is not wanted).
        stream.pause();
        reject(err);
      } else resolve(new Uint8Array(Buffer.concat(chunks, size)));
    }
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
  });
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`, { details: { maxBytes } });
}

const FORBIDDEN_KEY = /__proto__|constructor|prototype/;
const dropForbidden = (k: string, v: unknown) =>
  k === "__proto__" || k === "constructor" || k === "prototype" ? undefined : v;

/** Parses JSON after checking its nesting depth; drops `__proto__`/`constructor`/`prototype` keys. */
export function parseJson(bytes: Uint8Array, maxDepth: number): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.trim() === "") return undefined;
  // A text of n characters nests at most n/2 levels: short bodies need no scan.
  const depth = text.length > 2 * maxDepth ? jsonDepth(text) : 0;
  if (depth > maxDepth) {
    throw new BadRequestError(`the JSON body nests deeper than ${maxDepth} levels`, {
      details: { maxDepth },
    });
  }
  try {
    // The reviver (a call per key) only when a dangerous key can be there at all.
    return FORBIDDEN_KEY.test(text) ? JSON.parse(text, dropForbidden) : JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the body is not valid JSON: ${err instanceof Error ? err.message : ""}`, {
      cause: err,
    });
  }
}

/** Deepest nesting of `[`/`{` outside strings; a linear scan with no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
