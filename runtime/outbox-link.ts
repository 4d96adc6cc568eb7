/**
 * The {@link OutboxLink} over a mesh's connection: how the outbox (runtime/outbox/) forwards its
 * entries without importing the transport or the job and event modules itself. The mesh hands in
 * the two functions that create a destination's stream, and passes the answers to the tells the
 * outbox forwarded to {@link MeshOutboxLink.claim} (the transport has one handler of answers).
 *
 * @example
 * ```ts
 * const link = outboxLink(transport, (type, queue) => prepareJobQueue(mesh, type, queue), (s) => prepareEventsStream(mesh, s));
 * transport.onOneWayAnswer((sent, outcome, token) => link.claim(token, outcome) || tellAnswered(sent, outcome));
 * const outbox = Outbox.open({ path: "./outbox" }, link, logger);
 * ```
 */
import { ActorUnavailableError, PayloadTooLargeError } from "./errors.js";
import { decodeReply } from "./messaging/envelope.js";
import type { OutboxLink } from "./outbox/index.js";
import { JetStreamPublishError, jetStreamQueues } from "./transport/jetstream-queue.js";
import type { RequestOutcome, Transport } from "./transport/transport.js";

export interface MeshOutboxLink extends OutboxLink {
  /**
   * Takes the answer to a tell the outbox forwarded and still listens for (true), or leaves it to
   * the mesh (false).
   */
  claim(token: number, outcome: RequestOutcome): boolean;
}

export function outboxLink(
  t: Transport,
  prepareJobs: (type: string, queue: Record<string, unknown> | undefined) => Promise<void>,
  prepareEvents: (stream: Record<string, unknown> | undefined) => Promise<void>,
): MeshOutboxLink {
  /** Tells being listened for (token → subject), and the refusals heard for them. */
  const listening = new Map<number, string>();
  const refusals = new Map<number, Error>();
  /** Refusals that no resend can change (the host found the tell malformed, say). */
  const forGood = new WeakSet<Error>();
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
    publishCore: (e) => {
      if (e.kind !== "tell") {
        t.publish(e.subject, e.data, e.headers);
        return undefined;
      }
      const token = t.publishOneWay(e.subject, e.data, e.headers);
      listening.set(token, e.subject);
      return {
        refusal: () => refusals.get(token),
        release: () => {
          listening.delete(token);
          refusals.delete(token);
        },
      };
    },
    claim: (token, outcome) => {
      const subject = listening.get(token);
      if (subject === undefined) return false;
      if (outcome.kind === "no-responders") {
        refusals.set(token, new ActorUnavailableError(`no host serves ${subject}`, { details: { subject } }));
      } else if (outcome.kind === "reply") {
        const reply = decodeReply(outcome.data);
        if (!reply.ok) {
          refusals.set(token, reply.error);
          if (!reply.error.retryable) forGood.add(reply.error);
        }
      }
      return true;
    },
    flush: () => t.flush(),
    // JetStream refusing this message for a reason other than its limits; a payload over the
    // maximum; a host refusing a tell for a reason a resend cannot change.
    isPermanent: (err) =>
      (err instanceof JetStreamPublishError && err.errCode !== 0) ||
      err instanceof PayloadTooLargeError ||
      (err instanceof Error && forGood.has(err)),
  };
}
