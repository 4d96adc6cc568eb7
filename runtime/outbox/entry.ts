/**
 * What the outbox stores for one send: everything needed to make the same send later, from
 * another process after a crash, without the caller's objects.
 *
 * Kinds, and what forwarding one promises (docs/patterns/sparse-connectivity.md):
 * - `job`, `event`: a JetStream publish carrying `msgId` as `Nats-Msg-Id`, so a resend after a
 *   crash is dropped by the stream as a duplicate within its duplicate window.
 * - `tell`, `core`: a core NATS publish (a tell, an event with `durable: false`): JetStream does
 *   not see it, so nothing de-duplicates it.
 *
 * Each entry belongs to a lane, its destination: the entries of a lane are forwarded in order, and
 * a lane that cannot be delivered now waits without holding back the others (forwarder.ts). The
 * mesh names a tell's lane after its actor and a job's after its queue; an entry without a lane
 * (an event) is in its subject's.
 */
import { Packr, Unpackr } from "msgpackr";

export type EntryKind = "tell" | "job" | "event" | "core";
const KINDS: ReadonlySet<string> = new Set(["tell", "job", "event", "core"]);

/** What a JetStream destination needs to exist before the first forward (created if missing). */
export interface Preparation {
  /** A job: the actor type whose queue (and the results stream) must exist, with its stream settings. */
  readonly jobType?: string;
  readonly queue?: Record<string, unknown>;
  /** An event: the events stream's settings. */
  readonly events?: Record<string, unknown>;
}

/** A send as handed to the outbox. */
export interface Draft {
  readonly kind: EntryKind;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: Record<string, string> | undefined;
  /** `Nats-Msg-Id` of a JetStream kind; the outbox assigns one when a `job`/`event` has none. */
  readonly msgId?: string | undefined;
  readonly prepare?: Preparation | undefined;
  /** The destination whose order this send keeps (see {@link laneOf}); its subject when absent. */
  readonly lane?: string | undefined;
}

/** A stored send. */
export interface OutboxEntry extends Draft {
  /** Position in this outbox, increasing in append order. */
  readonly seq: number;
  /** Wall-clock time of the append (ms since the epoch): the TTL counts from it, across restarts. */
  readonly atMs: number;
}

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
const unpackr = new Unpackr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  mapsAsObjects: true,
  int64AsType: "number",
  copyBuffers: true,
});

export function encodeEntry(e: OutboxEntry): Uint8Array {
  return packr.pack({
    q: e.seq,
    k: e.kind,
    s: e.subject,
    d: e.data,
    t: e.atMs,
    ...(e.headers ? { h: e.headers } : {}),
    ...(e.msgId !== undefined ? { m: e.msgId } : {}),
    ...(e.prepare ? { p: e.prepare } : {}),
    ...(e.lane !== undefined ? { l: e.lane } : {}),
  });
}

/** Decodes an entry; throws on anything that is not one (the caller reports it as damage). */
export function decodeEntry(bytes: Uint8Array): OutboxEntry {
  const v = unpackr.unpack(bytes) as Record<string, unknown>;
  if (typeof v !== "object" || v === null) throw new Error("not an entry object");
  const { q, k, s, d, t, h, m, p, l } = v;
  if (!Number.isSafeInteger(q) || (q as number) < 1) throw new Error("bad entry seq");
  if (typeof k !== "string" || !KINDS.has(k)) throw new Error("bad entry kind");
  if (typeof s !== "string" || s.length === 0) throw new Error("bad entry subject");
  if (!(d instanceof Uint8Array)) throw new Error("bad entry data");
  if (typeof t !== "number") throw new Error("bad entry time");
  if (h !== undefined && !isStringRecord(h)) throw new Error("bad entry headers");
  if (m !== undefined && typeof m !== "string") throw new Error("bad entry msgId");
  if (p !== undefined && (typeof p !== "object" || p === null)) throw new Error("bad entry preparation");
  if (l !== undefined && typeof l !== "string") throw new Error("bad entry lane");
  return {
    seq: q as number,
    kind: k as EntryKind,
    subject: s,
    data: d,
    atMs: t,
    ...(h ? { headers: h as Record<string, string> } : {}),
    ...(m !== undefined ? { msgId: m as string } : {}),
    ...(p ? { prepare: p as Preparation } : {}),
    ...(l !== undefined ? { lane: l as string } : {}),
  };
}

/** The lane (destination) of an entry: the one it was given, else its subject. */
export function laneOf(e: Draft): string {
  return e.lane ?? e.subject;
}

/** A dead letter: the entry, why it was given up, and when. */
export interface DeadLetter {
  readonly entry: OutboxEntry;
  readonly reason: string;
  readonly deadAtMs: number;
}

export function encodeDeadLetter(d: DeadLetter): Uint8Array {
  return packr.pack({ e: encodeEntry(d.entry), r: d.reason, a: d.deadAtMs });
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  const v = unpackr.unpack(bytes) as Record<string, unknown>;
  if (typeof v !== "object" || v === null || !(v.e instanceof Uint8Array))
    throw new Error("not a dead letter");
  if (typeof v.r !== "string" || typeof v.a !== "number") throw new Error("bad dead letter");
  return { entry: decodeEntry(v.e), reason: v.r, deadAtMs: v.a };
}

export function encodeSeqs(seqs: readonly number[]): Uint8Array {
  return packr.pack(seqs);
}

export function decodeSeqs(bytes: Uint8Array): number[] {
  const v = unpackr.unpack(bytes) as unknown;
  if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n))) throw new Error("bad seq list");
  return v as number[];
}

/** Whether the kind is forwarded as a JetStream publish (de-duplicated by `msgId`). */
export function isJetStreamKind(kind: EntryKind): boolean {
  return kind === "job" || kind === "event";
}

function isStringRecord(v: unknown): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== "string") return false;
  return true;
}
