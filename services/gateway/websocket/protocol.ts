/**
 * The WebSocket frame protocol (`GET /v1/ws`, subprotocol `troupe.v1`): JSON text frames, each an
 * object with an `op` and, for requests, a client-chosen `id` (a string of 1-128 characters or a
 * safe integer) that every answer to it repeats.
 *
 * | client → gateway                                                                          | answer(s)                         |
 * | ----------------------------------------------------------------------------------------- | --------------------------------- |
 * | `{op:"call", id, actorType, actorId, method, args?, timeoutMs?, traceparent?, tracestate?}` | `result` {id, result, traceparent?} or `error` |
 * | `{op:"subscribe", id, pattern, filter?}`                                                   | `subscribed` {id}, then `event` {id, topic, data}… or `error` |
 * | `{op:"unsubscribe", id}` (the subscription's id)                                          | `unsubscribed` {id} or `error`    |
 * | `{op:"ping", id}`                                                                          | `pong` {id}                       |
 *
 * The gateway also sends `welcome` {principal, limits} when the socket opens, `dropped` {id, count}
 * when a subscription lost events to a slow client, and `error` {id, error} where `error` is the
 * HTTP routes' RFC 9457 problem body (same `code`, `status`, `retryable`, `details`); `id` is null
 * when the frame that caused it had no readable id. A frame never crashes the socket: anything
 * malformed is an `error` frame with GATEWAY_BAD_REQUEST.
 */

import { parseJson } from "../body.js";
import { BadRequestError } from "../errors.js";
import { ID_PARAM, METHOD_PARAM, TYPE_PARAM } from "../routes/shared.js";

export const WS_ROUTE = "/v1/ws";
export const WS_SUBPROTOCOL = "troupe.v1";

/** Close codes the gateway uses (besides ws's own 1009 for an oversized frame). */
export const CLOSE_NORMAL = 1000;
/** The gateway is shutting down: reconnect (to another instance). */
export const CLOSE_GOING_AWAY = 1001;
/** The client read too slowly: more than `limits.wsMaxBufferedBytes` was queued for it. */
export const CLOSE_SLOW_CONSUMER = 4008;

export type FrameId = string | number;

export interface CallFrame {
  readonly op: "call";
  readonly id: FrameId;
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly args: unknown[];
  readonly timeoutMs: number | undefined;
  /** The frame's W3C trace context (`traceparent`, `tracestate`), when it sent one. */
  readonly trace: Readonly<Record<string, string>>;
}

export interface SubscribeFrame {
  readonly op: "subscribe";
  readonly id: FrameId;
  readonly pattern: string;
  readonly filter: string | undefined;
}

export interface IdFrame {
  readonly op: "unsubscribe" | "ping";
  readonly id: FrameId;
}

export type ClientFrame = CallFrame | SubscribeFrame | IdFrame;

export type Parsed = { readonly frame: ClientFrame } | { readonly id: FrameId | null; readonly error: Error };

const TYPE = new RegExp(TYPE_PARAM.pattern);
const METHOD = new RegExp(METHOD_PARAM.pattern);
const ACTOR_ID = new RegExp(ID_PARAM.pattern);
const TRACE_FIELD = /^[\x20-\x7e]{1,512}$/;
const OPS = "call, subscribe, unsubscribe, ping";

/** Parses one text frame; a bad one gives the error to answer with (and its id when readable). */
export function parseFrame(text: string, maxDepth: number): Parsed {
  let value: unknown;
  try {
    value = parseJson(new TextEncoder().encode(text), maxDepth);
  } catch (error) {
    return { id: null, error: error as Error };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { id: null, error: bad("a frame is a JSON object with an op") };
  }
  const f = value as Record<string, unknown>;
  const id = frameIdOf(f.id);
  if (id === null) return { id: null, error: bad("id must be a string of 1-128 characters or an integer") };
  try {
    return { frame: frameOf(f, id) };
  } catch (error) {
    return { id, error: error as Error };
  }
}

function frameOf(f: Record<string, unknown>, id: FrameId): ClientFrame {
  switch (f.op) {
    case "call": {
      const timeoutMs = f.timeoutMs;
      if (
        timeoutMs !== undefined &&
        !(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs < 2 ** 31)
      ) {
        throw bad("timeoutMs must be a positive number of milliseconds");
      }
      if (f.args !== undefined && !Array.isArray(f.args))
        throw bad("args must be an array (the argument list)");
      return {
        op: "call",
        id,
        actorType: field(f, "actorType", TYPE, 64),
        actorId: field(f, "actorId", ACTOR_ID, ID_PARAM.maxLength),
        method: field(f, "method", METHOD, 256),
        args: (f.args as unknown[] | undefined) ?? [],
        timeoutMs,
        trace: traceOf(f),
      };
    }
    case "subscribe": {
      if (f.filter !== undefined && typeof f.filter !== "string") throw bad("filter must be a string");
      return {
        op: "subscribe",
        id,
        pattern: field(f, "pattern", /^.+$/, 256),
        filter: f.filter || undefined,
      };
    }
    case "unsubscribe":
    case "ping":
      return { op: f.op, id };
    default:
      throw bad(`op must be one of ${OPS}`);
  }
}

function frameIdOf(raw: unknown): FrameId | null {
  if (typeof raw === "string" && raw.length >= 1 && raw.length <= 128) return raw;
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return raw;
  return null;
}

function field(f: Record<string, unknown>, name: string, pattern: RegExp, maxLength: number): string {
  const v = f[name];
  if (typeof v !== "string" || v.length === 0 || v.length > maxLength || !pattern.test(v)) {
    throw bad(`${name} is missing or malformed`);
  }
  return v;
}

function traceOf(f: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["traceparent", "tracestate"]) {
    const v = f[key];
    if (typeof v === "string" && TRACE_FIELD.test(v)) out[key] = v;
  }
  return out;
}

function bad(message: string): BadRequestError {
  return new BadRequestError(message);
}
