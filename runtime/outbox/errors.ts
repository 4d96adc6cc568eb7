/**
 * Typed errors of the outbox. Like every Troupe error: a stable `code` and the retry decision in
 * `retryable`. None of them crosses the wire: they are local to the process that owns the outbox.
 */
import { TroupeError } from "../errors.js";

/**
 * The outbox holds `maxMessages` entries or `maxBytes` bytes already: this send was refused and
 * nothing of it was written. Retry once the connection is back and the outbox drained.
 */
export class OutboxFullError extends TroupeError {
  readonly code = "TROUPE_OUTBOX_FULL";
  readonly retryable = true;
}

/** Another live process owns the outbox directory (its pid is in `details.pid`). */
export class OutboxLockedError extends TroupeError {
  readonly code = "TROUPE_OUTBOX_LOCKED";
  readonly retryable = false;
}

/**
 * The outbox's files could not be read or written (a full disk, a permission, a file that is not an
 * outbox). A failed append left nothing behind: the file was cut back to where it was.
 */
export class OutboxStoreError extends TroupeError {
  readonly code = "TROUPE_OUTBOX_STORE_FAILED";
  readonly retryable = false;
}
