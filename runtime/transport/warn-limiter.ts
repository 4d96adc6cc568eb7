/**
 * At most one warning line per kind per interval, so that a flood of bad messages cannot fill a
 * disk: the first of a kind is logged at once; those within the next `everyMs` are counted, and the
 * next line of that kind carries the count (`suppressed`). Kept small and local to the transport;
 * a general rate-limited logger may replace it.
 *
 * @example
 * ```ts
 * const warn = new WarnLimiter(logger);
 * warn.warn("malformed-headers", "dropped a message with a malformed header block", { subject });
 * ```
 */
import type { LogFields, Logger } from "../log.js";

export class WarnLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Logs `msg` unless a line of `kind` was logged less than `everyMs` ago. True if it was logged. */
  warn(kind: string, msg: string, fields: LogFields = {}): boolean {
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.everyMs) {
      seen.suppressed++;
      return false;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(kind, { at: now, suppressed: 0 });
    this.logger.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
    return true;
  }
}
