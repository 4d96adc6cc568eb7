/**
 * Arrival and completion rates of one queue from successive JetStream samples: arrivals are the
 * growth of the stream's last sequence, completions are arrivals minus the growth of the backlog
 * (pending + ack-pending): in a work-queue stream a job leaves the backlog only when it is acked
 * (or dead-lettered). Smoothed (exponentially weighted, half per sample) so one slow read does not
 * swing a decision.
 */
import type { JobQueueLoad } from "troupe/internal";
import type { QueueSample } from "./decide.js";

interface Previous {
  readonly lastSeq: number;
  readonly backlog: number;
  readonly atMs: number;
  readonly arrival: number;
  readonly completion: number;
}

const WEIGHT = 0.5;

export class QueueRates {
  private readonly previous = new Map<string, Previous>();

  /** The queue's sample at `nowMs` (monotonic); `wallNowMs` only ages its oldest job. */
  sample(name: string, load: JobQueueLoad, nowMs: number, wallNowMs: number): QueueSample {
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
    this.previous.set(name, { lastSeq: load.lastSeq, backlog, atMs: nowMs, arrival, completion });
    return {
      name,
      pending: load.pending,
      ackPending: load.ackPending,
      arrivalPerSecond: arrival,
      completionPerSecond: completion,
      oldestWaitMs: load.oldestStoredAtMs === undefined ? 0 : Math.max(0, wallNowMs - load.oldestStoredAtMs),
    };
  }

  /** Forgets queues not in `names` (their group went away). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.previous.keys()) if (!names.has(name)) this.previous.delete(name);
  }
}
