/**
 * Reminder schedules and the firing convention, without I/O (shared by `remind()` and the runner).
 *
 * An actor receives its reminders through a handler named {@link RECEIVE_REMINDER}:
 *
 * ```ts
 * class Invoice extends Actor<{ paid: boolean }> {
 *   async open() { await this.remind("overdue", { at: Date.now() + 30 * 86_400_000 }); }
 *   async receiveReminder(name: string, info: ReminderInfo) { if (name === "overdue") ... }
 * }
 * ```
 */

import type { ReminderSchedule } from "../actor/index.js";
import { ConfigurationError } from "../errors.js";
import { assertToken } from "../messaging/index.js";

export type { ReminderSchedule };

/** The handler a reminder calls: `receiveReminder(name: string, info: ReminderInfo)`. */
export const RECEIVE_REMINDER = "receiveReminder";

/** What `receiveReminder` gets with the reminder's name. */
export interface ReminderInfo {
  /** When this occurrence was due (ms since the epoch). */
  readonly dueAtMs: number;
  /** When the runner started this firing (ms since the epoch). */
  readonly firedAtMs: number;
  /**
   * Later occurrences of a periodic reminder that were also due by `firedAtMs` and are folded into
   * this one firing (hosts were down): 0 when on time. Always 0 for a one-shot reminder.
   */
  readonly missed: number;
  /** 1 on the first attempt of this occurrence; more after the handler failed. */
  readonly attempt: number;
}

export interface ResolvedSchedule {
  readonly dueAtMs: number;
  readonly everyMs: number | undefined;
}

function toMs(what: string, t: Date | number): number {
  const ms = t instanceof Date ? t.getTime() : t;
  if (!Number.isFinite(ms)) throw new ConfigurationError(`${what} must be a valid Date or ms timestamp`);
  return Math.floor(ms);
}

export function assertReminderName(name: string): void {
  assertToken("reminder name", name);
}

export function resolveSchedule(schedule: ReminderSchedule, now = Date.now()): ResolvedSchedule {
  if ("at" in schedule) return { dueAtMs: toMs("reminder `at`", schedule.at), everyMs: undefined };
  const everyMs = schedule.everyMs;
  if (!Number.isFinite(everyMs) || everyMs < 1) {
    throw new ConfigurationError(`reminder everyMs must be a positive number of ms, got ${everyMs}`);
  }
  const every = Math.ceil(everyMs);
  const dueAtMs = schedule.firstAt === undefined ? now + every : toMs("reminder `firstAt`", schedule.firstAt);
  return { dueAtMs, everyMs: every };
}

/** Occurrences after `dueAtMs` that were also due by `firedAtMs` (folded into one firing). */
export function missedOccurrences(dueAtMs: number, everyMs: number | undefined, firedAtMs: number): number {
  if (!everyMs || firedAtMs <= dueAtMs) return 0;
  return Math.floor((firedAtMs - dueAtMs) / everyMs);
}

/**
 * The next occurrence of a periodic reminder after the one due at `dueAtMs` was handled at `nowMs`:
 * on the original cadence (`dueAtMs + everyMs`, no drift) when that is still ahead; otherwise the
 * reminder was late by a period or more (hosts were down), so the cadence restarts from now
 * (`nowMs + everyMs`): missed occurrences are never replayed as a backlog.
 */
export function nextDueAtMs(dueAtMs: number, everyMs: number, nowMs: number): number {
  const onCadence = dueAtMs + everyMs;
  return onCadence > nowMs ? onCadence : nowMs + everyMs;
}
