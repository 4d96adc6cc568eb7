/**
 * Reading the header block of a received message without ever throwing.
 *
 * nats.js decodes a message's headers lazily, on the first read of `msg.headers`, and throws on a
 * block it finds malformed (a space or a non-ASCII character in a header name, a lone LF in a
 * value). Inside a subscription callback that exception ends nats.js's read loop while the socket
 * stays open: the process hears nothing more. Its decoder is also quadratic in the number of
 * distinct header names (figures in docs/benchmarks.md).
 * So Troupe never lets nats.js decode a received header block: {@link headerBlockOf} reads the raw
 * bytes and {@link decodeHeaderBlock} parses them in one linear pass, with limits, into a typed
 * result.
 *
 * | block                                                  | result                               |
 * | ------------------------------------------------------ | ------------------------------------ |
 * | none                                                   | `{ ok: true, headers: undefined }`   |
 * | `NATS/1.0[ <code> <description>]`, then `name: value`  | `{ ok: true, headers }`              |
 * | anything else (see {@link HeaderLimits} and the rules) | `{ ok: false, reason }`              |
 *
 * Rules (those of nats.js, made strict): the first line starts with `NATS/1.0`; lines end with CRLF;
 * a name is 1+ printable ASCII characters (33–126) other than `:`; a value (trimmed) holds no CR
 * or LF; every non-empty line after the first has a colon. Names are kept as sent (exact match).
 */
import type { Msg } from "@nats-io/nats-core";
import { MalformedMessageError } from "../errors.js";
import type { MessageHeaders } from "./transport.js";

export interface HeaderLimits {
  /** Largest header block accepted, in bytes. */
  readonly maxBytes: number;
  /** Most header lines (fields) accepted. */
  readonly maxFields: number;
}

/**
 * Far above what Troupe writes (trace context, message ids, content type, and the `Nats-*` headers
 * JetStream adds: about ten fields, well under 1 KiB), and large enough for W3C baggage (8 KiB).
 */
export const DEFAULT_HEADER_LIMITS: HeaderLimits = { maxBytes: 64 * 1024, maxFields: 256 };

/** The decoded header block of a received message, or why it is malformed. */
export type HeaderBlock =
  | { readonly ok: true; readonly headers: ReceivedHeaders | undefined }
  | { readonly ok: false; readonly reason: string };

/** Headers of a received message (names matched exactly), with the status line's code. */
export class ReceivedHeaders implements MessageHeaders {
  constructor(
    private readonly fields: ReadonlyMap<string, readonly string[]>,
    /** The status code of the first line (`NATS/1.0 503`), 0 when there is none. */
    readonly code = 0,
    readonly description = "",
  ) {}

  get(key: string): string {
    return this.fields.get(key)?.[0] ?? "";
  }
  has(key: string): boolean {
    return this.fields.has(key);
  }
  keys(): string[] {
    return [...this.fields.keys()];
  }
  values(key: string): readonly string[] {
    return this.fields.get(key) ?? [];
  }
}

const NO_HEADERS: HeaderBlock = { ok: true, headers: undefined };
const STATUS_LINE = "NATS/1.0";
const decoder = new TextDecoder();

/**
 * Parses a raw header block (from `NATS/1.0` to the blank line). Never throws; linear in the size
 * of the block.
 */
export function decodeHeaderBlock(
  bytes: Uint8Array,
  limits: HeaderLimits = DEFAULT_HEADER_LIMITS,
): HeaderBlock {
  if (bytes.length > limits.maxBytes) {
    return malformed(`header block of ${bytes.length} bytes is larger than ${limits.maxBytes}`);
  }
  const text = decoder.decode(bytes);
  // Line by line with indexOf, as `text.split("\r\n")` would cut it, without the array and the
  // line strings (a traced message's one-field block: ~0.5 µs of the ~1.3 µs it took with split).
  const firstEnd = text.indexOf("\r\n");
  const first = firstEnd < 0 ? text : text.slice(0, firstEnd);
  if (!first.startsWith(STATUS_LINE)) return malformed("header block does not start with NATS/1.0");
  let code = 0;
  let description = "";
  if (first.length > STATUS_LINE.length) {
    const status = first.slice(STATUS_LINE.length).trim();
    if (status.length > 0) {
      const parsed = Number.parseInt(status, 10);
      code = Number.isNaN(parsed) ? 0 : parsed;
      description = (Number.isNaN(parsed) ? status : status.slice(String(parsed).length)).trim();
    }
  }
  const fields = new Map<string, string[]>();
  let count = 0;
  for (let pos = firstEnd < 0 ? text.length : firstEnd + 2; pos < text.length; ) {
    let end = text.indexOf("\r\n", pos);
    if (end < 0) end = text.length;
    if (end > pos) {
      if (++count > limits.maxFields) return malformed(`more than ${limits.maxFields} header fields`);
      const colon = text.indexOf(":", pos);
      if (colon < 0 || colon >= end) {
        return malformed(`header line without a colon: ${quote(text.slice(pos, end))}`);
      }
      const name = text.slice(pos, colon);
      const bad = badNameCharAt(name);
      if (bad !== -2) {
        return malformed(
          bad === -1
            ? "empty header name"
            : `header name ${quote(name)} has ${describeChar(name, bad)}: only printable ASCII is allowed`,
        );
      }
      const value = text.slice(colon + 1, end).trim();
      if (value.includes("\n") || value.includes("\r")) {
        return malformed(`value of header ${quote(name)} contains a line break (CR or LF)`);
      }
      const values = fields.get(name);
      if (values) values.push(value);
      else fields.set(name, [value]);
    }
    pos = end + 2;
  }
  return { ok: true, headers: new ReceivedHeaders(fields, code, description) };
}

/**
 * The header block of a message received by nats.js, decoded by {@link decodeHeaderBlock} from
 * its raw bytes (nats.js's own decoder never runs). Never throws.
 */
export function headerBlockOf(msg: Msg, limits?: HeaderLimits): HeaderBlock {
  const raw = rawHeaderBytes(msg);
  if (raw === null) return NO_HEADERS;
  if (raw !== undefined) return decodeHeaderBlock(raw, limits);
  // Not the message object this nats.js version is known to build: let nats.js decode, guarded.
  try {
    const h = msg.headers;
    if (!h) return NO_HEADERS;
    const fields = new Map<string, string[]>();
    for (const k of h.keys()) fields.set(k, h.values(k));
    return { ok: true, headers: new ReceivedHeaders(fields, h.code, h.description) };
  } catch (err) {
    return malformed(`malformed header block: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** nats.js's `MsgImpl` keeps the header length in `_msg.hdr` (-1: none) and the bytes in `_rdata`. */
interface MsgImplInternals {
  readonly _msg?: { readonly hdr?: unknown };
  readonly _rdata?: unknown;
}

/**
 * The raw header bytes of `msg`; null when it has no header block; undefined when `msg` is not
 * shaped like the nats.js message this code knows (a test pins that it is).
 */
export function rawHeaderBytes(msg: Msg): Uint8Array | null | undefined {
  const m = msg as unknown as MsgImplInternals;
  const hdr = m._msg?.hdr;
  if (typeof hdr !== "number") return undefined;
  if (hdr < 0) return null;
  const data = m._rdata;
  return data instanceof Uint8Array && hdr <= data.length ? data.subarray(0, hdr) : undefined;
}

/**
 * The typed refusal of a message whose header block is malformed (`reason` from a
 * {@link HeaderBlock}); names the header problem.
 */
export function malformedHeadersError(reason: string): MalformedMessageError {
  return new MalformedMessageError(`malformed message header block: ${reason}`, {
    details: { reason },
  });
}

/** Throws {@link malformedHeadersError} when a received message's header block was malformed. */
export function assertWellFormedHeaders(msg: { readonly malformedHeaders?: string | undefined }): void {
  if (msg.malformedHeaders !== undefined) throw malformedHeadersError(msg.malformedHeaders);
}

function malformed(reason: string): HeaderBlock {
  return { ok: false, reason };
}

/** Index of the first character not allowed in a header name; -1 for an empty name, -2 if none. */
function badNameCharAt(name: string): number {
  if (name.length === 0) return -1;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return i;
  }
  return -2;
}

function describeChar(s: string, at: number): string {
  const c = s.codePointAt(at) ?? 0;
  const hex = `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  if (c === 32) return `a space (${hex})`;
  if (c < 32 || c === 127) return `a control character (${hex})`;
  return `a non-ASCII character (${hex})`;
}

/** A name or line for a message: JSON-quoted, at most 64 characters of it. */
function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
