import test from "ava";
import type { JobQueueLoad } from "troupe/internal";
import { QueueRates } from "../../services/control-plane/scaling/queue-rates.js";

// Server timestamps from a clock far from this machine's: the oldest wait must not depend on it.
const SERVER_EPOCH = Date.parse("2001-01-01T00:00:00Z");

function load(fields: Partial<JobQueueLoad>): JobQueueLoad {
  return {
    pending: 0,
    ackPending: 0,
    redelivered: 0,
    lastSeq: 0,
    messages: 0,
    firstSeq: undefined,
    oldestStoredAtMs: undefined,
    newestStoredAtMs: undefined,
    ...fields,
  };
}

test("queue rates - the oldest wait ages on the monotonic clock from server-side gaps, never comparing clocks", (t) => {
  const rates = new QueueRates();
  const head = (firstSeq: number, oldest: number, newest: number) =>
    load({
      pending: 10,
      lastSeq: 10,
      messages: 10,
      firstSeq,
      oldestStoredAtMs: SERVER_EPOCH + oldest,
      newestStoredAtMs: SERVER_EPOCH + newest,
    });
  // First seen: its age is its gap to the newest stored job (2 s).
  t.is(rates.sample("jobs.A", head(1, 0, 2000), 1000).oldestWaitMs, 2000);
  // Still the head 3 s later (monotonic): 5 s, whatever the server's timestamps say now.
  t.is(rates.sample("jobs.A", head(1, 0, 2000), 4000).oldestWaitMs, 5000);
  // A new head: a new sighting.
  t.is(rates.sample("jobs.A", head(2, 1500, 2000), 4500).oldestWaitMs, 500);
  // Empty: no wait.
  t.is(rates.sample("jobs.A", load({ lastSeq: 10 }), 5000).oldestWaitMs, 0);
});

test("queue rates - completions are arrivals minus backlog growth within one snapshot; none while nothing left", (t) => {
  const rates = new QueueRates();
  rates.sample("jobs.A", load({ lastSeq: 0 }), 0);
  // A burst of 400 in one second, nothing done yet: all backlog, no completion.
  const burst = rates.sample("jobs.A", load({ lastSeq: 400, pending: 399, ackPending: 1 }), 1000);
  t.is(burst.completionPerSecond, 0);
  t.is(burst.arrivalPerSecond, 200, "smoothed: half of 400/s");
  // 20 done in the next second, no arrivals.
  const next = rates.sample("jobs.A", load({ lastSeq: 400, pending: 379, ackPending: 1 }), 2000);
  t.is(next.completionPerSecond, 10, "smoothed: half of 20/s");
});
