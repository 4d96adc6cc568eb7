/**
 * The `troupe` command line.
 *
 *   troupe dev [entry]                          local mesh hosting the entry's actors
 *   troupe call <Type> <id> <method> [json]     call an actor, print the result as JSON
 */
import { readFileSync } from "node:fs";
import { parseArgs as parseCli } from "node:util";
import { TroupeError } from "../errors.js";
import { call, parseArgs } from "./call.js";
import { dev } from "./dev.js";

const USAGE = `Usage: troupe <command>

Commands:
  dev [entry]                         Start a local mesh hosting the actors exported by entry
                                      (default services/examples/index.ts). Without NATS_URL it
                                      starts its own nats-server with JetStream.
  call <Type> <id> <method> [json]    Call an actor and print its result as JSON. json is an array
                                      of arguments or a single value. Options: --timeout <ms>
  help                                This text.

Environment: NATS_URL, NATS_CREDS, NATS_TOKEN, NATS_CA/NATS_CERT/NATS_KEY, TROUPE_PREFIX, TROUPE_LOG_LEVEL.`;

/** The version in package.json: two folders up from the sources, three from dist/. */
function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "troupe" && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return "unknown";
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "dev": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: { prefix: { type: "string" } },
        });
        await dev({
          ...(positionals[0] ? { entry: positionals[0] } : {}),
          ...(values.prefix ? { prefix: values.prefix } : {}),
        });
        return 0;
      }
      case "call": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: { timeout: { type: "string" } },
        });
        const [type, id, method, json] = positionals;
        if (!type || !id || !method) {
          process.stderr.write(`${USAGE}\n`);
          return 2;
        }
        const result = await call({
          type,
          id,
          method,
          args: parseArgs(json),
          ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
        });
        process.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`);
        return 0;
      }
      case "version":
      case "--version": {
        process.stdout.write(`troupe ${packageVersion()}\n`);
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`troupe: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof TroupeError) {
      process.stderr.write(`troupe: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
