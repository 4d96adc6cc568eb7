/** Typed errors of publish-subscribe: a stable `code` and the retry decision in `retryable`. */
import { TroupeError } from "../errors.js";

/**
 * A durable publish was not acknowledged by JetStream (no events stream, stream limits, timeout,
 * connection lost): the event may or may not be stored. Publishing again with the same `msgId`
 * is safe within the stream's duplicate window.
 */
export class PublishFailedError extends TroupeError {
  readonly code = "TROUPE_PUBLISH_FAILED";
  readonly retryable = true;
}
