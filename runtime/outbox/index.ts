/**
 * The durable client outbox (sparse connectivity): see outbox.ts and
 * docs/patterns/sparse-connectivity.md.
 */
export type { DeadLetter, Draft, EntryKind, OutboxEntry, Preparation } from "./entry.js";
export { OutboxFullError, OutboxLockedError, OutboxStoreError } from "./errors.js";
export type { OutboxLink } from "./link.js";
export { lockOwner } from "./lock.js";
export {
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_MESSAGES,
  DEFAULT_OUTBOX_TTL_MS,
  type OutboxOptions,
  resolveOutboxOptions,
} from "./options.js";
export {
  METRIC_OUTBOX_BYTES,
  METRIC_OUTBOX_DEAD_LETTERS,
  METRIC_OUTBOX_OLDEST_AGE,
  METRIC_OUTBOX_PENDING,
  Outbox,
  type OutboxEvents,
  type OutboxStatus,
} from "./outbox.js";
export { OutboxStore } from "./store.js";
export { type FileRecovery, inspectOutbox, type RecoveryReport } from "./store-files.js";
