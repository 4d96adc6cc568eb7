/**
 * `troupe call <Type> <id> <method> [json-args]`: calls an actor from the shell and prints the
 * result as JSON. `json-args` is a JSON array of arguments, or one JSON value for a single argument.
 */

import { connect } from "../connect.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { intFlag, parseCommandArgs, UsageError } from "./args.js";
import type { CliIo } from "./command.js";
import { readDevState } from "./dev-state.js";
import { whileWaiting } from "./progress.js";

export const CALL_USAGE = `Usage: troupe call <Type> <id> <method> [json] [--timeout <ms>]

  Calls an actor and prints its result as JSON. json is an array of arguments, or one value
  for a single argument. An argument that starts with "-" goes after "--":
    troupe call Inventory tea restock -- -5
  --timeout <ms>   the call's deadline in milliseconds (default 10000)`;

export interface CallCommand {
  type: string;
  id: string;
  method: string;
  args: unknown[];
  timeoutMs?: number;
}

export function parseArgs(json: string | undefined): unknown[] {
  if (json === undefined || json.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ConfigurationError(`arguments must be JSON (an array of arguments, or one value): ${json}`, {
      cause: err,
    });
  }
  return Array.isArray(value) ? value : [value];
}

/** Where to connect: NATS_URL, else the dev mesh started from this folder. */
export async function resolveTarget(): Promise<{ url: string; prefix: string }> {
  const prefix = process.env.TROUPE_PREFIX;
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, prefix: prefix ?? DEFAULT_PREFIX };
  const dev = await readDevState();
  if (dev) return { url: dev.url, prefix: prefix ?? dev.prefix };
  throw new ConfigurationError(
    "no mesh to talk to: set NATS_URL, or start a dev mesh in this folder with `npm run dev`",
  );
}

export async function call(cmd: CallCommand, io?: CliIo): Promise<unknown> {
  const { url, prefix } = await resolveTarget();
  const mesh = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  try {
    const result = mesh.callByName(
      cmd.type,
      cmd.id,
      cmd.method,
      cmd.args,
      cmd.timeoutMs ? { timeoutMs: cmd.timeoutMs } : {},
    );
    return io
      ? await whileWaiting(io, `waiting for ${cmd.type} ${cmd.id} ${cmd.method}`, result)
      : await result;
  } finally {
    await mesh.close();
  }
}

/** `troupe call ...` from the command line; returns the exit code. */
export async function callCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(
    argv,
    { timeout: { type: "string" } },
    { min: 3, max: 4, names: "<Type> <id> <method> [json]" },
  );
  const [type = "", id = "", method = "", json] = positionals;
  let args: unknown[];
  try {
    args = parseArgs(json);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const timeoutMs = intFlag(values.timeout, "--timeout", { min: 1 });
  const result = await call({ type, id, method, args, ...(timeoutMs ? { timeoutMs } : {}) }, io);
  io.out(JSON.stringify(result ?? null, null, 2));
  return 0;
}
