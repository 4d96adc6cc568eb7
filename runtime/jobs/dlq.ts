/**
 * Reading and acting on the dead-letter queue (used by `troupe dlq` and by tests).
 *
 * @example
 * ```ts
 * for await (const entry of deadLetters(mesh, { type: "Payment" })) console.log(entry.seq, entry.reason);
 * await replayDeadLetter(mesh, 42);          // back to its queue, original bytes, then removed here
 * ```
 */

import { type DeadLetter, decodeDeadLetter, ensureDlqStream, type MeshConnection } from "../durable/index.js";
import { ConfigurationError } from "../errors.js";
import { repeatsOf } from "../log.js";
import { jetStreamQueues, type StoredMessage } from "../transport/index.js";
import { ensureJobStream, namesOf } from "./streams.js";

/** A dead letter and where it sits in the DLQ stream. */
export interface DeadLetterEntry extends DeadLetter {
  /** Sequence in the DLQ stream: the id `troupe dlq show|replay|purge` take. */
  readonly seq: number;
  /** When it was stored in the DLQ (server time, ms since the epoch). */
  readonly deadLetteredAtMs: number;
}

function entryOf(m: StoredMessage): DeadLetterEntry {
  return { ...decodeDeadLetter(m.data), seq: m.seq, deadLetteredAtMs: m.storedAtMs };
}

/** Dead letters, oldest first, optionally of one actor type. */
export async function* deadLetters(
  mesh: MeshConnection,
  options: { type?: string; fromSeq?: number } = {},
): AsyncGenerator<DeadLetterEntry> {
  const names = namesOf(mesh);
  await ensureDlqStream(mesh);
  const subject = options.type ? names.dlqSubject(options.type) : names.dlqFilter();
  const q = jetStreamQueues(mesh.transport);
  for await (const m of q.list(names.dlqStream(), {
    subject,
    ...(options.fromSeq ? { fromSeq: options.fromSeq } : {}),
  })) {
    try {
      yield entryOf(m);
    } catch (err) {
      repeatsOf(mesh.logger).warn("unreadable dead letter", "unreadable dead letter skipped", {
        seq: m.seq,
        err,
      });
    }
  }
}

export async function deadLetter(mesh: MeshConnection, seq: number): Promise<DeadLetterEntry | null> {
  await ensureDlqStream(mesh);
  const m = await jetStreamQueues(mesh.transport).bySeq(namesOf(mesh).dlqStream(), seq);
  return m ? entryOf(m) : null;
}

export type ReplayOutcome = "replayed" | "duplicate" | "missing";

/**
 * Publishes the dead letter's original bytes and headers back to its type's queue, then deletes it
 * from the DLQ. An event's dead letter is replayed as a job that delivers the event to the one
 * subscriber it failed for (its type must run a job runner). The replay's `Nats-Msg-Id` is derived
 * from the DLQ sequence, so replaying the same
 * entry twice (e.g. a bulk replay interrupted and started again) stores it once. The replayed job
 * keeps its job id (its result overwrites the dead-lettered one) and starts again at attempt 1.
 */
export async function replayDeadLetter(mesh: MeshConnection, seq: number): Promise<ReplayOutcome> {
  const entry = await deadLetter(mesh, seq);
  if (!entry) return "missing";
  const names = namesOf(mesh);
  const q = jetStreamQueues(mesh.transport);
  await ensureJobStream(mesh, entry.type);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry.originalHeaders ?? {})) {
    if (!/^nats-/i.test(k)) headers[k] = v;
  }
  // An event goes back to its one subscriber, as a job (republishing it would fan it out again).
  if (entry.source === "event" && !entry.replay) {
    throw new ConfigurationError(
      `dead letter ${seq} is an event that could not be decoded: it cannot be replayed (purge it)`,
    );
  }
  const target = entry.replay ?? { subject: entry.originalSubject, data: entry.data };
  const ack = await q.publish(target.subject, target.data, {
    msgId: `replay-${names.dlqStream()}-${seq}`,
    headers,
  });
  await q.deleteMessage(names.dlqStream(), seq);
  return ack.duplicate ? "duplicate" : "replayed";
}

/** Deletes one dead letter. */
export async function purgeDeadLetter(mesh: MeshConnection, seq: number): Promise<boolean> {
  await ensureDlqStream(mesh);
  return jetStreamQueues(mesh.transport).deleteMessage(namesOf(mesh).dlqStream(), seq);
}

/** Deletes every dead letter (of `type`, if given); returns how many. */
export async function purgeDeadLetters(
  mesh: MeshConnection,
  options: { type?: string } = {},
): Promise<number> {
  const names = namesOf(mesh);
  await ensureDlqStream(mesh);
  return jetStreamQueues(mesh.transport).purge(
    names.dlqStream(),
    options.type ? names.dlqSubject(options.type) : undefined,
  );
}
