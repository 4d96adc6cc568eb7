/**
 * Describing anything a handler may throw, without ever throwing while doing it.
 *
 * JavaScript lets code throw any value: `undefined`, a Symbol, an object without a prototype (whose
 * `String()` throws), an object whose `toString` throws, an `Error` whose `message` getter throws,
 * a Proxy whose every trap throws. Each function here reads such a value only inside `try`, and
 * answers with plain strings and primitives that msgpack and `JSON.stringify` always accept.
 *
 * | thrown                          | name           | message                                   |
 * | ------------------------------- | -------------- | ----------------------------------------- |
 * | `new RangeError("x")`           | `RangeError`   | `x`                                       |
 * | `"boom"`, `42`, `undefined`     | `string`, ...  | `boom`, `42`, `undefined`                 |
 * | `Symbol("s")`                   | `symbol`       | `Symbol(s)`                               |
 * | `Object.create(null)`           | `object`       | `an object without a prototype`           |
 * | an Error whose message throws   | `Error`...     | `an Error whose message cannot be read`   |
 */

/** Longest message or detail string kept; longer ones are cut (a reply must stay small). */
export const MAX_DESCRIPTION_CHARS = 16 * 1024;

/** BigInts longer than this many bits are described by their size, not their digits. */
const MAX_BIGINT_BITS = 256;

export interface ThrownDescription {
  /** The class name of an Error (or object with a string `name`), else `typeof` the value. */
  readonly name: string;
  readonly message: string;
}

/** A description of `thrown` that is always two plain strings. Never throws. */
export function describeThrown(thrown: unknown): ThrownDescription {
  try {
    if (typeof thrown !== "object" || thrown === null) {
      return { name: thrown === null ? "null" : typeof thrown, message: describePrimitive(thrown) };
    }
    const name = readString(thrown, "name") ?? constructorName(thrown) ?? "object";
    const message = readString(thrown, "message");
    if (message !== undefined) return { name, message: clip(message) };
    if (thrown instanceof Error)
      return { name, message: `${article(name)} ${name} whose message cannot be read` };
    return { name, message: objectText(thrown) };
  } catch {
    return { name: "object", message: "a thrown value that cannot be described" };
  }
}

/** A primitive (or function) as text: `String()` would throw on nothing here but a huge BigInt is costly. */
function describePrimitive(v: unknown): string {
  switch (typeof v) {
    case "string":
      return clip(v);
    case "bigint":
      return bigintText(v);
    case "symbol":
      return clip(v.toString());
    case "function":
      return `a function${v.name ? ` (${clip(v.name)})` : ""}`;
    default:
      return String(v);
  }
}

function bigintText(v: bigint): string {
  const bits = (v < 0n ? -v : v).toString(16).length * 4;
  return bits > MAX_BIGINT_BITS ? `a BigInt of about ${bits} bits` : v.toString();
}

/** `String(obj)` when that works and gives something better than `[object Object]`. */
function objectText(obj: object): string {
  try {
    const text: unknown = String(obj);
    if (typeof text === "string" && text !== "[object Object]") return clip(text);
  } catch {
    // a null-prototype object or a throwing toString: fall through to a neutral description
  }
  let proto: unknown;
  try {
    proto = Object.getPrototypeOf(obj);
  } catch {
    return "a thrown object that cannot be described";
  }
  return proto === null ? "an object without a prototype" : `a thrown ${constructorName(obj) ?? "object"}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

function readString(obj: object, key: "name" | "message"): string | undefined {
  try {
    const v: unknown = (obj as Record<string, unknown>)[key];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function constructorName(obj: object): string | undefined {
  try {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto === null || typeof proto !== "object") return undefined;
    const ctor: unknown = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    const name: unknown = typeof ctor === "function" ? ctor.name : undefined;
    return typeof name === "string" && name ? name : undefined;
  } catch {
    return undefined;
  }
}

function clip(s: string): string {
  return s.length > MAX_DESCRIPTION_CHARS ? `${s.slice(0, MAX_DESCRIPTION_CHARS)}…` : s;
}

/**
 * Error details as they may cross the wire: strings (cut), finite or not numbers, booleans, null
 * and undefined are kept; a BigInt becomes its decimal text (or its size), anything else (objects,
 * cycles, functions, symbols) a short text naming its type. Never throws.
 */
export function wireSafeDetails(raw: unknown): Record<string, string | number | boolean | null | undefined> {
  const out: Record<string, string | number | boolean | null | undefined> = {};
  try {
    if (typeof raw !== "object" || raw === null) return out;
    for (const key of Object.keys(raw)) {
      if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
      let v: unknown;
      try {
        v = (raw as Record<string, unknown>)[key];
      } catch {
        out[key] = "[unreadable]";
        continue;
      }
      if (v === null || v === undefined || typeof v === "number" || typeof v === "boolean") out[key] = v;
      else if (typeof v === "string") out[key] = clip(v);
      else if (typeof v === "bigint") out[key] = bigintText(v);
      else out[key] = `[${typeof v === "object" ? (constructorName(v) ?? "object") : typeof v}]`;
    }
  } catch {
    // a Proxy refusing to list its keys: keep what was read
  }
  return out;
}

/** Whether reading `name`, `message` and `code` of `err` is safe and gives wire-safe values. */
export function isWellBehavedError(err: unknown, depth = 0): boolean {
  try {
    if (!(err instanceof Error)) return false;
    const e = err as Error & { code?: unknown; details?: unknown };
    if (typeof e.name !== "string" || typeof e.message !== "string") return false;
    if (e.message.length > MAX_DESCRIPTION_CHARS) return false;
    const code = e.code;
    if (code !== undefined && typeof code !== "string" && typeof code !== "number") return false;
    void e.stack;
    if (e.details !== undefined && !detailsArePrimitive(e.details)) return false;
    const cause = e.cause;
    if (cause === undefined || cause === null) return true;
    if (typeof cause === "string" || typeof cause === "number" || typeof cause === "boolean") return true;
    return depth < 4 && isWellBehavedError(cause, depth + 1);
  } catch {
    return false;
  }
}

function detailsArePrimitive(details: unknown): boolean {
  if (typeof details !== "object" || details === null) return false;
  for (const key of Object.keys(details)) {
    const v: unknown = (details as Record<string, unknown>)[key];
    if (v === null || v === undefined || typeof v === "number" || typeof v === "boolean") continue;
    if (typeof v === "string" && v.length <= MAX_DESCRIPTION_CHARS) continue;
    return false;
  }
  return true;
}
