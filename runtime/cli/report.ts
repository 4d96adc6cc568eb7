/**
 * How a failed `troupe` command ends: one line on stderr, never a stack trace.
 *
 * | error                              | printed                                              | exit |
 * |------------------------------------|------------------------------------------------------|------|
 * | UsageError, ERR_PARSE_ARGS_*       | `troupe <cmd>: <what is wrong>`, then <cmd>'s usage  | 2    |
 * | ActorMethodError (remote throw)    | `troupe: <RemoteClass>: <message> [<code>]`          | 1    |
 * | any other TroupeError              | `troupe: <code>: <message>`                          | 1    |
 * | anything else (a bug)              | `troupe: unexpected <name>: <message>`               | 1    |
 *
 * With `TROUPE_LOG_LEVEL=debug` the stack of an unexpected error follows on stderr.
 */
import { ActorMethodError, TroupeError } from "../errors.js";
import { toUsageError, UsageError } from "./args.js";
import type { CliCommand, CliIo } from "./command.js";

/** The one line describing `err` (without the trailing newline). */
export function describeFailure(err: unknown): string {
  if (err instanceof ActorMethodError) return `troupe: ${err.remoteName}: ${err.message} [${err.code}]`;
  if (err instanceof TroupeError) return `troupe: ${err.code}: ${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `troupe: unexpected ${e.name}: ${e.message}`;
}

/** Prints `err` for `command` and returns the exit code. */
export function reportFailure(err: unknown, command: CliCommand | undefined, io: CliIo): number {
  const usage = toUsageError(err);
  if (usage instanceof UsageError) {
    io.err(`troupe${command ? ` ${command.name}` : ""}: ${usage.message}`);
    if (command) io.err(command.usage);
    return 2;
  }
  io.err(describeFailure(err));
  if (!(err instanceof TroupeError) && process.env.TROUPE_LOG_LEVEL === "debug" && err instanceof Error) {
    io.err(err.stack ?? "");
  }
  return 1;
}
