/**
 * Arrival and completion rates of one queue from successive JetStream samples: arrivals are the
 * growth of the stream's last sequence, completions are arrivals minus the growth of the backlog
 * (pending + ack-pending): in a work-queue stream a job leaves the backlog only when it is acked
 * (or dead-lettered). Smoothed (exponentially weighted, half per sample) so one slow read does not
 * swing a decision. Arrivals and backlog come from one consumer snapshot (JobQueueLoad.lastSeq), so a
 * burst of enqueues between two reads is not counted as completions.
 *
 * The oldest job's wait never compares the server's clock with this process's: when a job is first
 * seen at the head of the queue, its age is taken as the server-side gap between it and the newest
 * stored job (a lower bound: the newest may itself have waited), and from then on it ages on this
 * process's monotonic clock.
 */
import type { JobQueueLoad } from "troupe/internal";
import type { QueueSample } from "./decide.js";

interface Head {
  readonly seq: number;
  /** Monotonic time it was first seen at the head. */
  readonly seenAtMs: number;
  /** Its age then, from server timestamps only. */
  readonly ageAtSightMs: number;
}

interface Previous {
  readonly head: Head | undefined;
  readonly lastSeq: number;
  readonly backlog: number;
  readonly atMs: number;
  readonly arrival: number;
  readonly completion: number;
}

const WEIGHT = 0.5;

export class QueueRates {
  private readonly previous = new Map<string, Previous>();

  /** The queue's sample at `nowMs` (monotonic). */
  sample(name: string, load: JobQueueLoad, nowMs: number): QueueSample {
    const backlog = load.pending + load.ackPending;
    const before = this.previous.get(name);
    let arrival = 0;
    let completion = 0;
    if (before && nowMs > before.atMs && load.lastSeq >= before.lastSeq) {
      const seconds = (nowMs - before.atMs) / 1000;
      const arrived = load.lastSeq - before.lastSeq;
      const completed = Math.max(0, arrived - (backlog - before.backlog));
      arrival = WEIGHT * (arrived / seconds) + (1 - WEIGHT) * before.arrival;
      completion = WEIGHT * (completed / seconds) + (1 - WEIGHT) * before.completion;
      // A queue that completed nothing in this sample shows it at once (a stuck consumer).
      if (completed === 0) completion = 0;
    }
    const head = headOf(load, before?.head, nowMs);
    this.previous.set(name, { head, lastSeq: load.lastSeq, backlog, atMs: nowMs, arrival, completion });
    return {
      name,
      pending: load.pending,
      ackPending: load.ackPending,
      arrivalPerSecond: arrival,
      completionPerSecond: completion,
      oldestWaitMs: head ? head.ageAtSightMs + (nowMs - head.seenAtMs) : 0,
    };
  }

  /** Forgets queues not in `names` (their group went away). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.previous.keys()) if (!names.has(name)) this.previous.delete(name);
  }
}

/** The queue's head job: the one seen before if it is still the head, else a new sighting. */
function headOf(load: JobQueueLoad, before: Head | undefined, nowMs: number): Head | undefined {
  if (load.firstSeq === undefined) return undefined;
  if (before?.seq === load.firstSeq) return before;
  const gap =
    load.oldestStoredAtMs !== undefined && load.newestStoredAtMs !== undefined
      ? Math.max(0, load.newestStoredAtMs - load.oldestStoredAtMs)
      : 0;
  return { seq: load.firstSeq, seenAtMs: nowMs, ageAtSightMs: gap };
}
