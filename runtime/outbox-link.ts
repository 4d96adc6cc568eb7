/**
 * The {@link OutboxLink} over a mesh's connection: how the outbox (runtime/outbox/) forwards its
 * entries without importing the transport or the job and event modules itself. The mesh hands in
 * the two functions that create a destination's stream.
 *
 * @example
 * ```ts
 * const link = outboxLink(transport, (type, queue) => prepareJobQueue(mesh, type, queue), (s) => prepareEventsStream(mesh, s));
 * const outbox = Outbox.open({ path: "./outbox" }, link, logger);
 * ```
 */
import { PayloadTooLargeError } from "./errors.js";
import type { OutboxLink } from "./outbox/index.js";
import { JetStreamPublishError, jetStreamQueues } from "./transport/jetstream-queue.js";
import type { Transport } from "./transport/transport.js";

export function outboxLink(
  t: Transport,
  prepareJobs: (type: string, queue: Record<string, unknown> | undefined) => Promise<void>,
  prepareEvents: (stream: Record<string, unknown> | undefined) => Promise<void>,
): OutboxLink {
  return {
    get connected() {
      return t.connected ?? !t.isClosed;
    },
    onConnectionChange: (listener) => t.onConnectionChange?.(listener),
    prepare: (p) => (p.jobType !== undefined ? prepareJobs(p.jobType, p.queue) : prepareEvents(p.events)),
    publishDurable: (e) =>
      jetStreamQueues(t)
        .publish(e.subject, e.data, {
          ...(e.msgId ? { msgId: e.msgId } : {}),
          ...(e.headers ? { headers: e.headers } : {}),
        })
        .then(() => undefined),
    publishCore: (e) =>
      e.kind === "tell"
        ? t.publishOneWay(e.subject, e.data, e.headers)
        : t.publish(e.subject, e.data, e.headers),
    flush: () => t.flush(),
    // JetStream refusing this message for a reason other than its limits; a payload over the maximum.
    isPermanent: (err) =>
      (err instanceof JetStreamPublishError && err.errCode !== 0) || err instanceof PayloadTooLargeError,
  };
}
