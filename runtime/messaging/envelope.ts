/**
 * The versioned envelopes of a call and of its reply, encoded as one msgpack array each so a
 * message costs one encode and one decode.
 *
 * - request: `[version, actorId, method, timeoutMs, args]`, or for a tell (one-way: the host never
 *   answers it, though it may carry a reply subject for the broker's "no responders")
 *   `[version, actorId, method, timeoutMs, args, ONE_WAY]`
 * - reply:   `[version, REPLY_OK, result]` or `[version, REPLY_ERROR, { code, message, details }]`
 * - keepalive: `[version, REPLY_KEEPALIVE, everyMs]`, sent by a host on the reply subject of a call it
 *   is still working on (queued or running), every `everyMs`; not a reply: the call goes on.
 *
 * The timeout travels as a relative budget (like gRPC's `grpc-timeout`), not an absolute time, so
 * callers and hosts need no synchronised clocks. Everything decoded here is untrusted and validated.
 */
import { fromWireError, MalformedMessageError, type TroupeError, toWireError } from "../errors.js";
import { type DecodeLimits, decode, encode } from "./codec.js";

export const ENVELOPE_VERSION = 1;
export const REPLY_OK = 0;
export const REPLY_ERROR = 1;
export const REPLY_KEEPALIVE = 2;
/** Sixth element of a tell's envelope. */
export const ONE_WAY = 1;

/** Longest actor id accepted, in UTF-16 code units. */
export const MAX_ACTOR_ID_LENGTH = 1024;
/** Longest method name accepted. */
export const MAX_METHOD_LENGTH = 256;

export interface CallEnvelope {
  actorId: string;
  method: string;
  /** Remaining time budget in ms when the caller sent it. */
  timeoutMs: number;
  args: unknown[];
  /** A tell: the host runs it and never answers, whatever reply subject the message has. */
  oneWay?: boolean;
}

export function encodeCall(call: CallEnvelope): Uint8Array {
  return call.oneWay
    ? encode([ENVELOPE_VERSION, call.actorId, call.method, call.timeoutMs, call.args, ONE_WAY])
    : encode([ENVELOPE_VERSION, call.actorId, call.method, call.timeoutMs, call.args]);
}

export function decodeCall(bytes: Uint8Array, limits?: Partial<DecodeLimits>): CallEnvelope {
  const raw = decode(bytes, limits);
  if (!Array.isArray(raw) || (raw.length !== 5 && raw.length !== 6)) {
    throw new MalformedMessageError("call envelope must be an array of 5 elements (6 for a tell)");
  }
  const [version, actorId, method, timeoutMs, args, oneWay] = raw as unknown[];
  if (version !== ENVELOPE_VERSION) {
    throw new MalformedMessageError(`unsupported call envelope version ${String(version)}`, {
      details: { supported: ENVELOPE_VERSION },
    });
  }
  if (typeof actorId !== "string" || actorId.length === 0 || actorId.length > MAX_ACTOR_ID_LENGTH) {
    throw new MalformedMessageError(`actor id must be a string of 1-${MAX_ACTOR_ID_LENGTH} characters`);
  }
  if (typeof method !== "string" || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    throw new MalformedMessageError(`method must be a string of 1-${MAX_METHOD_LENGTH} characters`);
  }
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new MalformedMessageError("timeout must be a non-negative number of milliseconds");
  }
  if (!Array.isArray(args)) throw new MalformedMessageError("call arguments must be an array");
  if (raw.length === 6) {
    if (oneWay !== ONE_WAY)
      throw new MalformedMessageError("the sixth element of a call envelope must be 1 (a tell)");
    return { actorId, method, timeoutMs, args, oneWay: true };
  }
  return { actorId, method, timeoutMs, args };
}

/**
 * The array a reply's envelope is encoded from, filled per reply and emptied after: one less
 * allocation on every reply a host sends. Encoding may run user code (a getter) that could encode
 * another reply before this one is done; such a nested encode gets an array of its own.
 */
const replyScratch: unknown[] = [ENVELOPE_VERSION, REPLY_OK, undefined];
let replyScratchInUse = false;

export function encodeResult(result: unknown): Uint8Array {
  if (replyScratchInUse) return encode([ENVELOPE_VERSION, REPLY_OK, result]);
  replyScratchInUse = true;
  replyScratch[2] = result;
  try {
    return encode(replyScratch);
  } finally {
    replyScratch[2] = undefined;
    replyScratchInUse = false;
  }
}

/**
 * The error reply for anything thrown. Never throws: `toWireError` describes any thrown value (a
 * null-prototype object, a throwing getter, cyclic or BigInt details) with wire-safe primitives only
 * (runtime/thrown.ts), so the caller always gets a prompt error reply instead of waiting for its
 * deadline.
 */
export function encodeError(err: unknown): Uint8Array {
  return encode([ENVELOPE_VERSION, REPLY_ERROR, toWireError(err)]);
}

export type DecodedReply = { ok: true; value: unknown } | { ok: false; error: TroupeError };

/** Decodes a reply; a reply that is itself malformed becomes `{ ok: false, error: MalformedMessageError }`. */
export function decodeReply(bytes: Uint8Array, limits?: Partial<DecodeLimits>): DecodedReply {
  let raw: unknown;
  try {
    raw = decode(bytes, limits);
  } catch (err) {
    return { ok: false, error: err as TroupeError };
  }
  if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== ENVELOPE_VERSION) {
    return { ok: false, error: new MalformedMessageError("reply is not a version 1 reply envelope") };
  }
  if (raw[1] === REPLY_OK) return { ok: true, value: raw[2] };
  if (raw[1] === REPLY_ERROR) return { ok: false, error: fromWireError(raw[2]) };
  return { ok: false, error: new MalformedMessageError(`unknown reply status ${String(raw[1])}`) };
}

/** A keepalive saying the host is still working on the call and sends one every `everyMs`. */
export function encodeKeepalive(everyMs: number): Uint8Array {
  return encode([ENVELOPE_VERSION, REPLY_KEEPALIVE, Math.round(everyMs)]);
}

/**
 * If `bytes` is a keepalive, the interval its host announced (ms); otherwise -1. Reads three bytes
 * before deciding, so telling replies from keepalives costs a reply nothing: a keepalive is a
 * msgpack array of 3 (`0x93`) whose first two items are the version and REPLY_KEEPALIVE (positive
 * fixints), and a reply's second item is REPLY_OK or REPLY_ERROR.
 */
export function keepaliveEveryMs(bytes: Uint8Array): number {
  if (bytes[2] !== REPLY_KEEPALIVE || bytes[0] !== 0x93 || bytes[1] !== ENVELOPE_VERSION) return -1;
  try {
    const raw = decode(bytes);
    const everyMs = (raw as unknown[])[2];
    return typeof everyMs === "number" && Number.isFinite(everyMs) && everyMs > 0 ? everyMs : -1;
  } catch {
    return -1;
  }
}
