/**
 * The {@link OutboxLink} over a mesh's connection: how the outbox (runtime/outbox/) forwards its
 * entries without importing the transport or the job and event modules itself. The mesh hands in
 * the two functions that create a destination's stream, and passes the answers to the tells the
 * outbox forwarded to {@link MeshOutboxLink.claim} (the transport has one handler of answers).
 *
 * Jobs and events are stored in the JetStream domain of the server they are forwarded to, which a
 * process that appended them offline (or before a crash) may not have known: the link names it
 * (`troupe-origin-domain`) at forward time, so results of jobs forwarded into an edge site come back
 * there and the site's subscribers recognise its own events when the hub's copies return.
 *
 * @example
 * ```ts
 * const link = outboxLink(transport, (type, queue) => prepareJobQueue(mesh, type, queue), (s) => prepareEventsStream(mesh, s), domain);
 * transport.onOneWayAnswer((sent, outcome, token) => link.claim(token, outcome) || tellAnswered(sent, outcome));
 * const outbox = Outbox.open({ path: "./outbox" }, link, logger);
 * ```
 */
import { ActorUnavailableError, PayloadTooLargeError } from "./errors.js";
import { decodeReply, ORIGIN_DOMAIN_HEADER } from "./messaging/index.js";
import type { OutboxLink } from "./outbox/index.js";
import type { RequestOutcome, Transport } from "./transport/index.js";
import { JetStreamPublishError, jetStreamQueues } from "./transport/index.js";

export interface MeshOutboxLink extends OutboxLink {
  /**
   * Takes the answer to a tell the outbox forwarded and still listens for (true), or leaves it to
   * the mesh (false).
   */
  claim(token: number, outcome: RequestOutcome): boolean;
}

/** The JetStream domain of the connection's server: read (`get`), or as far as already known (`now`). */
export interface OriginDomain {
  get(): Promise<string | undefined>;
  now(): string | undefined;
}

/** `headers` naming `domain` as the origin (unchanged when the domain is not known). */
function withOrigin(headers: Record<string, string> | undefined, domain: string | undefined) {
  if (domain === undefined || headers?.[ORIGIN_DOMAIN_HEADER] === domain) return headers;
  return { ...headers, [ORIGIN_DOMAIN_HEADER]: domain };
}

export function outboxLink(
  t: Transport,
  prepareJobs: (type: string, queue: Record<string, unknown> | undefined) => Promise<void>,
  prepareEvents: (stream: Record<string, unknown> | undefined) => Promise<void>,
  domain: OriginDomain = { get: async () => undefined, now: () => undefined },
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
    publishDurable: async (e) => {
      const headers = withOrigin(e.headers, await domain.get());
      await jetStreamQueues(t).publish(e.subject, e.data, {
        ...(e.msgId ? { msgId: e.msgId } : {}),
        ...(headers ? { headers } : {}),
      });
    },
    publishCore: (e) => {
      if (e.kind !== "tell") {
        t.publish(e.subject, e.data, withOrigin(e.headers, domain.now()));
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
