import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { NatsServerUnavailableError } from "../errors.js";

/** What to do when `nats-server` is missing; the message of the error `findNatsServer` throws. */
export const NATS_SERVER_INSTALL_HINT =
  "nats-server not found. Install it with `apt-get install nats-server` (Debian/Ubuntu), " +
  "or run `node scripts/bootstrap.mjs`, or set NATS_SERVER_BIN to its path.";

/** Places checked after `NATS_SERVER_BIN` and `PATH`. */
const WELL_KNOWN_PATHS = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"];

/**
 * Finds the `nats-server` executable: `NATS_SERVER_BIN` if set (it must then point to an
 * executable file: an explicit setting is never silently ignored), else the first `nats-server`
 * on `PATH`, else `/usr/sbin/nats-server` or `/usr/local/bin/nats-server`.
 *
 * @throws NatsServerUnavailableError with {@link NATS_SERVER_INSTALL_HINT} as the message
 *   (plus what was wrong with `NATS_SERVER_BIN`, when that is the cause).
 *
 * @example
 * ```ts
 * const bin = findNatsServer(); // "/usr/sbin/nats-server"
 * ```
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.NATS_SERVER_BIN;
  if (configured !== undefined && configured !== "") {
    if (isExecutableFile(configured)) return configured;
    throw new NatsServerUnavailableError(
      `${NATS_SERVER_INSTALL_HINT} NATS_SERVER_BIN is set to "${configured}", which is not an executable file.`,
      { details: { reason: "not-found", natsServerBin: configured } },
    );
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, "nats-server");
    if (isExecutableFile(candidate)) return candidate;
  }
  for (const candidate of WELL_KNOWN_PATHS) {
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new NatsServerUnavailableError(NATS_SERVER_INSTALL_HINT, { details: { reason: "not-found" } });
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    // Missing, unreadable or not executable: all mean "not this one".
    return false;
  }
}
