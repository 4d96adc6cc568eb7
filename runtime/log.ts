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

// ---------------------------------------------------------------------------------------------
// Repeated warnings

/** Default for {@link RepeatLimiterOptions.everyMs}; `TROUPE_LOG_REPEAT_MS` overrides it (0 logs every line). */
export const DEFAULT_REPEAT_EVERY_MS = 5_000;
/** Distinct keys tracked at once; beyond it the new keys share one overflow key. */
export const MAX_REPEAT_KEYS = 1_000;
const OVERFLOW_KEY = "(too many distinct repeated warnings)";

export interface RepeatLimiterOptions {
  /** Per key, at most one line per this many ms after the first. 0 logs every line. */
  everyMs?: number;
}

type RepeatLevel = "warn" | "error";

interface RepeatState {
  /** When this key's last line was written (`performance.now()`). */
  loggedAt: number;
  /** Occurrences since then that were not written. */
  suppressed: number;
  level: RepeatLevel;
  msg: string;
  fields: LogFields | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Aggregates warnings and errors that repeat once per message (a refused call, a dead-lettered
 * job), so a flood of bad messages writes a bounded number of lines instead of one per message:
 *
 * - the first occurrence of a key is logged at once, as it is;
 * - later ones within `everyMs` of the key's last line are counted, not written;
 * - at the end of that interval one line is written for them: the last one's message and context,
 *   with `suppressed` (how many were not written) and `overMs` (since the key's previous line).
 *
 * So per key at most one line per interval, and no occurrence goes uncounted: the occurrences are
 * the lines without `suppressed` plus the sum of `suppressed`. A key names the kind of event, never
 * anything a sender controls (e.g. `refused a call:Cart:TROUPE_MALFORMED_MESSAGE`); at most
 * {@link MAX_REPEAT_KEYS} are tracked, and the rest share one overflow key.
 *
 * @example
 * ```ts
 * repeatsOf(logger).warn(`refused a call:${type}:${err.code}`, "refused a call", { actorType: type, err });
 * ```
 */
export class RepeatLimiter {
  readonly everyMs: number;
  private readonly keys = new Map<string, RepeatState>();

  constructor(
    private readonly logger: Logger,
    options: RepeatLimiterOptions = {},
  ) {
    const everyMs = options.everyMs ?? envRepeatEveryMs();
    if (!(typeof everyMs === "number" && everyMs >= 0 && Number.isFinite(everyMs))) {
      throw new TypeError(`everyMs must be a non-negative finite number, got ${String(everyMs)}`);
    }
    this.everyMs = everyMs;
  }

  warn(key: string, msg: string, fields?: LogFields): void {
    this.log("warn", key, msg, fields);
  }

  error(key: string, msg: string, fields?: LogFields): void {
    this.log("error", key, msg, fields);
  }

  /** Writes every pending summary now (e.g. before the process exits). */
  flush(): void {
    for (const key of [...this.keys.keys()]) this.flushKey(key, true);
  }

  /** Keys tracked right now (each holds at most one timer). */
  get size(): number {
    return this.keys.size;
  }

  private log(level: RepeatLevel, key: string, msg: string, fields: LogFields | undefined): void {
    if (this.everyMs === 0) {
      this.logger[level](msg, fields);
      return;
    }
    let k = `${level}:${key}`;
    if (!this.keys.has(k) && this.keys.size >= MAX_REPEAT_KEYS) k = OVERFLOW_KEY;
    const st = this.keys.get(k);
    const now = performance.now();
    if (!st) {
      this.logger[level](msg, fields);
      const fresh: RepeatState = {
        loggedAt: now,
        suppressed: 0,
        level,
        msg,
        fields: undefined,
        timer: undefined,
      };
      this.keys.set(k, fresh);
      this.arm(k, fresh, this.everyMs);
      return;
    }
    st.suppressed++;
    st.level = level;
    st.msg = msg;
    st.fields = fields;
  }

  /** Once per interval per key: writes the summary, or forgets a key that stayed quiet. */
  private arm(key: string, st: RepeatState, delayMs: number): void {
    st.timer = setTimeout(() => this.flushKey(key, false), delayMs);
    // Never keeps a process alive just to write a summary.
    st.timer.unref?.();
  }

  private flushKey(key: string, final: boolean): void {
    const st = this.keys.get(key);
    if (!st) return;
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    if (st.suppressed === 0) {
      this.keys.delete(key);
      return;
    }
    const at = performance.now();
    this.logger[st.level](st.msg, {
      ...st.fields,
      suppressed: st.suppressed,
      overMs: Math.round(at - st.loggedAt),
    });
    st.suppressed = 0;
    st.fields = undefined;
    st.loggedAt = at;
    if (final) this.keys.delete(key);
    else this.arm(key, st, this.everyMs);
  }
}

const limiters = new WeakMap<Logger, RepeatLimiter>();

/**
 * The one {@link RepeatLimiter} of `logger`, created on first use: everything that logs repeated
 * warnings to the same logger shares it, so no component needs one handed to it.
 */
export function repeatsOf(logger: Logger): RepeatLimiter {
  let limiter = limiters.get(logger);
  if (!limiter) {
    limiter = new RepeatLimiter(logger);
    limiters.set(logger, limiter);
  }
  return limiter;
}

/** Sets how `logger`'s repeated warnings are limited (before or after first use; pending summaries are written first). */
export function limitRepeats(logger: Logger, options: RepeatLimiterOptions): RepeatLimiter {
  limiters.get(logger)?.flush();
  const limiter = new RepeatLimiter(logger, options);
  limiters.set(logger, limiter);
  return limiter;
}

function envRepeatEveryMs(): number {
  const raw = process.env.TROUPE_LOG_REPEAT_MS;
  if (raw === undefined || raw === "") return DEFAULT_REPEAT_EVERY_MS;
  const v = Number(raw);
  return Number.isFinite(v) && v >= 0 ? v : DEFAULT_REPEAT_EVERY_MS;
}

/** What kind of failure `err` is, for a {@link RepeatLimiter} key: its `code`, else its class name. */
export function failureKind(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" || typeof code === "number" ? String(code) : err.name;
  }
  return typeof err;
}
