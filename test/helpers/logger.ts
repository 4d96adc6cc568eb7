/**
 * A logger that records what the runtime logs, for tests that assert on warnings and errors.
 *
 * @example
 * ```ts
 * const log = recordingLogger();
 * const { mesh } = await startMesh(t, { logger: log.logger });
 * t.deepEqual(log.at("warn", "error"), []);
 * ```
 */
import type { LogFields, Logger, LogLevel } from "../../runtime/log.js";

export type RecordedLevel = Exclude<LogLevel, "silent">;

export interface LogEntry {
  readonly level: RecordedLevel;
  readonly msg: string;
  readonly fields: LogFields | undefined;
}

export interface RecordingLogger {
  readonly logger: Logger;
  /** Every entry, in order. */
  readonly entries: LogEntry[];
  /** The entries of these levels, in order. */
  at(...levels: RecordedLevel[]): LogEntry[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const record = (level: RecordedLevel) => (msg: string, fields?: LogFields) => {
    entries.push({ level, msg, fields });
  };
  return {
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    entries,
    at: (...levels) => entries.filter((e) => levels.includes(e.level)),
  };
}

/**
 * What placement logs about its own upkeep when the machine is saturated: a lease renewed late, a
 * shard stood down and taken again, a heartbeat that failed and was retried. Tests that assert
 * "nothing was logged" about something else leave these out, so they hold beside CPU burners.
 */
const PLACEMENT_UPKEEP = /shard|lease|membership|heartbeat|stood down/i;

/** The entries that are not placement upkeep (see {@link PLACEMENT_UPKEEP}). */
export function exceptPlacementUpkeep(entries: readonly LogEntry[]): LogEntry[] {
  return entries.filter((e) => !PLACEMENT_UPKEEP.test(e.msg));
}
