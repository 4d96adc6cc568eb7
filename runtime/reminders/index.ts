/** Durable reminders: `this.remind(name, schedule)` on an actor, fired by the host's reminder runner. */
export { ReminderNames } from "../messaging/index.js";
export { listReminders, type ReminderRow } from "./list.js";
export { type ReminderRunner, type ReminderRunnerOptions, startReminderRunner } from "./runner.js";
export {
  missedOccurrences,
  nextDueAtMs,
  RECEIVE_REMINDER,
  type ReminderInfo,
  type ReminderSchedule,
  resolveSchedule,
} from "./schedule.js";
export { remind, unremind } from "./store.js";
export { restoredDueAtMs, type SweepOnce, type SweepReport, sweepReminders } from "./sweep.js";
