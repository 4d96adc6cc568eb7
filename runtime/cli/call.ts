/**
 * `troupe call <Type> <id> <method> [json-args]`: calls an actor from the shell and prints the
 * result as JSON. `json-args` is a JSON array of arguments, or one JSON value for a single argument.
 */
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import { connect } from "../mesh.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { readDevState } from "./dev-state.js";

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

export async function call(cmd: CallCommand): Promise<unknown> {
  const { url, prefix } = await resolveTarget();
  const mesh = await connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
  try {
    return await mesh.callByName(
      cmd.type,
      cmd.id,
      cmd.method,
      cmd.args,
      cmd.timeoutMs ? { timeoutMs: cmd.timeoutMs } : {},
    );
  } finally {
    await mesh.close();
  }
}
