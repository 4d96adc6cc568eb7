/**
 * The dead-letter record (a msgpack map) that job runners and durable event subscribers write to
 * `<prefix>.dlq.<Type>`, and its codec. Everything decoded here is untrusted and validated.
 */
import { MalformedMessageError, type WireError } from "../errors.js";
import { decode, encode } from "../messaging/index.js";
import type { DeadLetterReason } from "./dead-letter-reason.js";

export type { DeadLetterReason };

/** The durable event subscription a dead-lettered event belongs to (see runtime/pubsub). */
export interface DeadLetterSubscription {
  /** Durable consumer name, `<Type>_<method>`. */
  name: string;
  /** The subscribed pattern (may hold wildcards). */
  pattern: string;
  /** The event's topic. */
  topic: string;
}

/**
 * What the DLQ stores about a failed job or event delivery. Enough to inspect it and to replay it
 * (a job: its original bytes; an event: `replay`, a job that delivers it to its one subscriber).
 */
export interface DeadLetter {
  v: number;
  /** What failed: a job (default, also when absent) or the delivery of an event to one subscriber. */
  source?: "job" | "event" | undefined;
  reason: DeadLetterReason;
  /** Undefined when the envelope could not be decoded. */
  jobId?: string | undefined;
  type: string;
  actorId?: string | undefined;
  method?: string | undefined;
  error: WireError & { stack?: string | undefined };
  /** Delivery attempts made (the JetStream delivery count of the last one). */
  attempts: number;
  /** When the job was first stored, ms since the epoch (server time). */
  enqueuedAtMs: number;
  /** When it was dead-lettered, ms since the epoch (runner's clock). */
  failedAtMs: number;
  /** Name of the host whose runner dead-lettered it. */
  host: string;
  originalSubject: string;
  originalSeq: number;
  originalHeaders: Record<string, string>;
  /** The original message's bytes, unchanged (a job envelope, or an event's payload). */
  data: Uint8Array;
  /** Events only: the subscriber it failed for. */
  subscription?: DeadLetterSubscription | undefined;
  /**
   * What a replay publishes instead of `data` to `originalSubject`. For an event: a job that
   * delivers the event to its one subscriber (a replay must not fan out to every subscriber
   * again). Absent when the event could not be decoded: such a dead letter cannot be replayed.
   */
  replay?: { subject: string; data: Uint8Array } | undefined;
  /**
   * What was left out so that the record fits the server's max_payload with the original bytes
   * intact, e.g. `["error.stack", "error.details", "error.message past 1024 characters"]`.
   */
  omitted?: string[] | undefined;
}

export function encodeDeadLetter(d: DeadLetter): Uint8Array {
  return encode(d);
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  // Dead letters carry the original payload, so allow a bit more than one message.
  const raw = decode(bytes, { maxBytes: 8 * 1024 * 1024 });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MalformedMessageError("dead letter must be a map");
  }
  const d = raw as Partial<DeadLetter>;
  if (d.v !== 1 || typeof d.type !== "string" || !(d.data instanceof Uint8Array)) {
    throw new MalformedMessageError("not a version 1 dead letter");
  }
  return d as DeadLetter;
}
