/**
 * `troupe state get|put|rm <Type> <id>`: inspect and repair one actor's stored state, e.g. one that
 * cannot be loaded any more (`StateNotLoadableError`).
 *
 *   troupe state get <Type> <id> [-o json]      the decoded value as JSON, or the decode error with
 *                                               the size and a hex dump of the stored bytes
 *   troupe state put <Type> <id> <json>         replace it (checked like a save: what would not load
 *                  [--revision N] [-o json]     is refused); compare-and-set on the revision read
 *                                               just before, or on N
 *   troupe state rm <Type> <id> [--revision N]  delete it: the next activation starts from
 *                  [-o json]                    initialState()
 *
 * Values beyond JSON are shown and accepted as `{"$bigint": "123"}`, `{"$bytes": "<base64>"}`,
 * `{"$date": "<ISO time>"}`, `{"$number": "NaN"}` (or `"Infinity"`, `"-Infinity"`) and
 * `{"$undefined": true}`. Writes are fenced by the KV revision like an activation's saves: a live
 * activation of the actor fails its next save with `StaleActivationError`, stands down, and the
 * next call loads the new state.
 */
import { parseArgs } from "node:util";
import { connect } from "../connect.js";
import { ConfigurationError, TroupeError } from "../errors.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { assertToken, decodeState, encodeState, kvKeyForId } from "../messaging/index.js";
import type { KeyValueBucket } from "../transport/index.js";
import { resolveTarget } from "./call.js";

export const STATE_USAGE = `Usage: troupe state <command>

  get <Type> <id> [-o json]                  The actor's stored state as JSON, or why it cannot be
                                             decoded (with its size and a hex dump).
  put <Type> <id> <json> [--revision N]      Replace it (refused if it would not load again).
      [-o json]
  rm <Type> <id> [--revision N] [-o json]    Delete it: the next activation starts from initialState().

  BigInt, binary, Date, NaN/Infinity and undefined are written {"$bigint":"1"},
  {"$bytes":"<base64>"}, {"$date":"<ISO>"}, {"$number":"NaN"}, {"$undefined":true}.`;

export interface StateIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: StateIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Bytes shown in the hex dump of a state that cannot be decoded. */
const HEX_DUMP_BYTES = 256;

/** A mistake in the command line: reported with the usage, exit code 2. */
class UsageError extends Error {}

interface Parsed {
  sub: "get" | "put" | "rm";
  type: string;
  id: string;
  json: boolean;
  value?: unknown;
  revision?: number;
}

/** Runs `troupe state ...`; returns the exit code. `mesh` is for tests; the CLI connects by itself. */
export async function state(argv: string[], mesh?: Mesh, io: StateIo = defaultIo): Promise<number> {
  if (argv[0] === "help" || argv[0] === "--help") {
    io.out(STATE_USAGE);
    return 0;
  }
  let cmd: Parsed;
  try {
    cmd = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ConfigurationError || err instanceof TypeError))
      throw err;
    io.err(`troupe state: ${err.message}`);
    io.err(STATE_USAGE);
    return 2;
  }
  const own = mesh === undefined;
  const m = mesh ?? (await openMesh());
  try {
    const bucket = await m.transport.existingKeyValue(m.subjects.stateBucket(cmd.type));
    if (!bucket) {
      io.err(`troupe state: no state bucket for actor type ${cmd.type} (prefix ${m.subjects.prefix})`);
      return 1;
    }
    if (cmd.sub === "get") return await get(bucket, cmd, io);
    if (cmd.sub === "put") return await put(bucket, cmd, io);
    return await rm(bucket, cmd, io);
  } finally {
    if (own) await m.close();
  }
}

function parse(argv: string[]): Parsed {
  const [sub, ...rest] = argv;
  if (sub !== "get" && sub !== "put" && sub !== "rm") {
    throw new UsageError(sub ? `unknown command "${sub}"` : "name a command: get, put or rm");
  }
  // parseArgs throws a TypeError with a clear message for an unknown option.
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: { output: { type: "string", short: "o" }, revision: { type: "string" } },
  });
  const [type, id, json, ...extra] = positionals;
  if (!type || !id) throw new UsageError(`${sub} needs <Type> and <id>`);
  assertToken("actor type name", type);
  const wanted = sub === "put" ? 1 : 0;
  if ((sub === "put" && json === undefined) || extra.length > 0 || (sub !== "put" && json !== undefined)) {
    throw new UsageError(`${sub} takes ${wanted ? "<Type> <id> <json>" : "<Type> <id>"}`);
  }
  if (values.output !== undefined && values.output !== "json") {
    throw new UsageError(`-o takes "json", got "${values.output}"`);
  }
  if (values.revision !== undefined && sub === "get") throw new UsageError("--revision is for put and rm");
  const parsed: Parsed = { sub, type, id, json: values.output === "json" };
  if (values.revision !== undefined) {
    const revision = Number(values.revision);
    if (!Number.isSafeInteger(revision) || revision < 0) {
      throw new UsageError(`--revision must be a non-negative integer, got "${values.revision}"`);
    }
    parsed.revision = revision;
  }
  if (sub === "put") {
    try {
      parsed.value = fromJson(JSON.parse(json as string));
    } catch (err) {
      throw new UsageError(`<json> is not a valid state: ${(err as Error).message}`);
    }
  }
  return parsed;
}

async function get(bucket: KeyValueBucket, cmd: Parsed, io: StateIo): Promise<number> {
  const rec = await bucket.get(kvKeyForId(cmd.id));
  if (!rec) {
    io.err(`no state stored for ${cmd.type}/${cmd.id}`);
    return 1;
  }
  const bytes = rec.value;
  let value: unknown;
  try {
    value = decodeState(bytes);
  } catch (err) {
    const e = err as TroupeError;
    const report = {
      type: cmd.type,
      id: cmd.id,
      revision: rec.revision,
      bytes: bytes.length,
      error: { code: e.code, message: e.message, ...(e instanceof TroupeError ? e.details : {}) },
      hex: hexDump(bytes.subarray(0, HEX_DUMP_BYTES)),
      ...(bytes.length > HEX_DUMP_BYTES ? { hexTruncated: true } : {}),
    };
    if (cmd.json) io.out(JSON.stringify(report, null, 2));
    else {
      io.out(`${cmd.type}/${cmd.id}  revision ${rec.revision}  ${bytes.length} bytes  CANNOT BE DECODED`);
      io.out(`${e.code}: ${e.message}`);
      io.out(report.hex + (report.hexTruncated ? `\n… (${bytes.length - HEX_DUMP_BYTES} more bytes)` : ""));
      io.out(
        `Repair with \`troupe state put ${cmd.type} ${cmd.id} <json>\` or \`troupe state rm ${cmd.type} ${cmd.id}\`.`,
      );
    }
    return 1;
  }
  if (cmd.json) {
    io.out(
      JSON.stringify(
        { type: cmd.type, id: cmd.id, revision: rec.revision, bytes: bytes.length, value: toJson(value) },
        null,
        2,
      ),
    );
  } else {
    io.out(`${cmd.type}/${cmd.id}  revision ${rec.revision}  ${bytes.length} bytes`);
    io.out(JSON.stringify(toJson(value), null, 2));
  }
  return 0;
}

async function put(bucket: KeyValueBucket, cmd: Parsed, io: StateIo): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = encodeState(cmd.value);
  } catch (err) {
    io.err(`troupe state: ${(err as TroupeError).code}: ${(err as Error).message}`);
    return 1;
  }
  const key = kvKeyForId(cmd.id);
  const expected = cmd.revision ?? (await bucket.get(key))?.revision ?? 0;
  const revision = await bucket.compareAndSet(key, bytes, expected);
  if (cmd.json) io.out(JSON.stringify({ type: cmd.type, id: cmd.id, revision, bytes: bytes.length }));
  else io.out(`stored ${cmd.type}/${cmd.id} at revision ${revision} (${bytes.length} bytes)`);
  return 0;
}

async function rm(bucket: KeyValueBucket, cmd: Parsed, io: StateIo): Promise<number> {
  const key = kvKeyForId(cmd.id);
  const current = await bucket.get(key);
  if (!current) {
    io.err(`no state stored for ${cmd.type}/${cmd.id}`);
    return 1;
  }
  await bucket.delete(key, cmd.revision ?? current.revision);
  if (cmd.json) io.out(JSON.stringify({ type: cmd.type, id: cmd.id, deletedRevision: current.revision }));
  else io.out(`deleted the state of ${cmd.type}/${cmd.id} (was revision ${current.revision})`);
  return 0;
}

async function openMesh(): Promise<Mesh> {
  const { url, prefix } = await resolveTarget();
  return connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
}

/** 16 bytes a line: offset, hex, printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join("\n");
}

/** A decoded state as JSON: the values JSON lacks become tagged objects (see the header). */
export function toJson(v: unknown): unknown {
  if (v === undefined) return { $undefined: true };
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
  if (typeof v !== "object" || v === null) return v;
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(toJson);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, {
      value: toJson((v as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The inverse of {@link toJson} for what `put` reads. */
export function fromJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(fromJson);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const tag = keys[0];
    const x = o[tag as string];
    if (tag === "$bigint" && typeof x === "string") return BigInt(x);
    if (tag === "$bytes" && typeof x === "string") return Buffer.from(x, "base64");
    if (tag === "$date" && typeof x === "string") return new Date(x);
    if (tag === "$undefined" && x === true) return undefined;
    if (tag === "$number" && (x === "NaN" || x === "Infinity" || x === "-Infinity")) return Number(x);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    // defineProperty keeps a "__proto__" key an own property, so encodeState refuses it by name.
    Object.defineProperty(out, k, {
      value: fromJson(o[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
