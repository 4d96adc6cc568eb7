/**
 * A minimal structured logger. Troupe logs with context (actor type, id, method, code) and
 * never swallows an error silently; plug in your own logger (pino, winston...) through
 * `connect({ logger })`: anything with these four methods works.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** Logs one JSON line per entry to stderr, at or above `level` (default: `TROUPE_LOG_LEVEL` or `info`). */
export function consoleLogger(level: LogLevel = envLevel(), base: LogFields = {}): Logger {
  const min = LEVELS[level];
  const write = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (LEVELS[lvl] < min) return;
    const entry: LogFields = { time: new Date().toISOString(), level: lvl, msg, ...base };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? describeError(v) : v;
    }
    process.stderr.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

function envLevel(): LogLevel {
  const v = process.env.TROUPE_LOG_LEVEL;
  return v && v in LEVELS ? (v as LogLevel) : "info";
}

function describeError(err: Error): LogFields {
  const out: LogFields = { name: err.name, message: err.message, stack: err.stack };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = err.cause instanceof Error ? describeError(err.cause) : err.cause;
  return out;
}
