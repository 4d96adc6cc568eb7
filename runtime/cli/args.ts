/**
 * Argument parsing for every `troupe` sub-command: Node's own `util.parseArgs` (strict), with its
 * errors turned into a {@link UsageError} that says in one line what is wrong. `main.ts` prints that
 * line and the sub-command's usage, and exits 2.
 *
 * Why `util.parseArgs` and not a parser library: it is part of Node (maintained with it, no
 * dependency, no install), strict by default, and already what every command module uses.
 * What it lacks (number checks, `-o table|json`, positional counts) is the few helpers below.
 *
 * ```ts
 * const { values, positionals } = parseCommandArgs(argv, { timeout: { type: "string" } }, { min: 3, max: 4, names: "<Type> <id> <method> [json]" });
 * const timeoutMs = intFlag(values.timeout, "--timeout", { min: 1 });
 * ```
 *
 * Arguments that start with `-` (a negative number, a JSON value) go after `--`:
 * `troupe call Inventory tea restock -- -5`.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { assertToken } from "../messaging/index.js";

/** A wrong invocation: printed as one line plus the sub-command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface PositionalRule {
  /** Fewest positionals accepted (default 0). */
  min?: number;
  /** Most positionals accepted (default: any number). */
  max?: number;
  /** How the positionals are written in the usage, e.g. `<Type> <id> <method> [json]`. */
  names?: string;
}

export interface ParsedArgs<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>["values"];
  positionals: string[];
}

/** `util.parseArgs` in strict mode; any mistake becomes a one-line {@link UsageError}. */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  rule: PositionalRule = {},
): ParsedArgs<O> {
  let parsed: ParsedArgs<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as ParsedArgs<O>;
  } catch (err) {
    throw toUsageError(err);
  }
  const count = parsed.positionals.length;
  const names = rule.names ? `: ${rule.names}` : "";
  if (rule.min !== undefined && count < rule.min) {
    throw new UsageError(
      `expected ${rule.min === rule.max ? "" : "at least "}${rule.min} argument(s)${names}`,
    );
  }
  if (rule.max !== undefined && count > rule.max) {
    const extra = parsed.positionals.slice(rule.max).join(" ");
    throw new UsageError(`too many arguments (${extra})${names ? `, expected${names}` : ""}`);
  }
  return parsed;
}

/** Turns Node's `ERR_PARSE_ARGS_*` errors into one friendly line; anything else is returned as is. */
export function toUsageError(err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const option = /option '([^']+)'/.exec(message)?.[1] ?? "?";
      return new UsageError(
        `unknown option ${option} (an argument that starts with "-" goes after "--", e.g. -- ${option})`,
      );
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const option = /'(-[^' ]*(?:, --[^' ]+)?)/.exec(message)?.[1] ?? "option";
      return new UsageError(
        message.includes("argument missing")
          ? `${option} needs a value`
          : message.includes("ambiguous")
            ? `${option} needs a value (one that starts with "-" is written ${option}=-1)`
            : message.includes("does not take an argument")
              ? `${option} takes no value`
              : message,
      );
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ""}`.trim());
    default:
      return err instanceof Error ? err : new Error(message);
  }
}

export interface IntRule {
  min?: number;
  max?: number;
}

/** A whole-number flag: undefined when absent, a {@link UsageError} when not a number in range. */
export function intFlag(raw: string | undefined, flag: string, rule: IntRule = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  const min = rule.min ?? 0;
  if (!Number.isSafeInteger(n) || n < min || (rule.max !== undefined && n > rule.max)) {
    const range = rule.max !== undefined ? `${min}..${rule.max}` : `${min} or more`;
    throw new UsageError(`${flag} must be a whole number, ${range} (got "${raw}")`);
  }
  return n;
}

/** A positive number flag (e.g. a rate): undefined when absent. */
export function positiveFlag(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number (got "${raw}")`);
  return n;
}

export type OutputFormat = "table" | "json";

/** `-o table|json` (default table). */
export function outputFlag(raw: string | undefined): OutputFormat {
  if (raw === undefined || raw === "table" || raw === "json") return raw ?? "table";
  throw new UsageError(`-o must be table or json (got "${raw}")`);
}

/**
 * `--type <Type>` (undefined when absent): an actor type name, refused here when it could not be
 * one, since it becomes part of a subject filter (`*` or `>` would select other types).
 */
export function actorTypeFlag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    assertToken("--type", raw);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return raw;
}

/** One of a fixed set of words, e.g. `ls hosts|shards|actors`. */
export function oneOf<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T {
  if (raw !== undefined && (allowed as readonly string[]).includes(raw)) return raw as T;
  const got = raw === undefined ? "nothing" : `"${raw}"`;
  throw new UsageError(`expected ${what} ${allowed.join(", ")}; got ${got}`);
}
