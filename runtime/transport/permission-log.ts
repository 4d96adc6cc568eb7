/**
 * Makes a permissions violation visible: nats-server refuses a publish or a subscription outside
 * the connection's allow lists with an asynchronous `-ERR`, which nats.js only reports on the
 * connection's status stream. Each one is logged as an error naming the operation and the subject,
 * so a missing permission (or a component using the wrong NATS user) is found from the logs.
 */
import { type NatsConnection, PermissionViolationError } from "@nats-io/nats-core";
import type { Logger } from "../log.js";

export const PERMISSION_VIOLATION = "NATS refused a subject to this connection (permissions violation)";

export function logPermissionViolations(nc: NatsConnection, logger: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) {
        logger.error(PERMISSION_VIOLATION, {
          operation: s.error.operation,
          subject: s.error.subject,
          ...(s.error.queue ? { queue: s.error.queue } : {}),
          hint: s.error.subject?.startsWith("_INBOX")
            ? "replies come under the connection's inbox prefix, and a user may read only its own: set NATS_INBOX_PREFIX (connect({ inboxPrefix })) to the user's (`troupe auth gen`: _INBOX_<user>)"
            : "the NATS user's permissions do not allow it: see `troupe auth gen`",
        });
      }
    }
  })().catch((err: unknown) =>
    logger.warn("connection status stream ended; permission violations go unlogged", { err }),
  );
}

/** Whether `err` is nats-server refusing a subject to this connection (directly or as a request's cause). */
export function isPermissionDenied(err: unknown): boolean {
  return (
    err instanceof PermissionViolationError ||
    (err instanceof Error && err.cause instanceof PermissionViolationError)
  );
}
