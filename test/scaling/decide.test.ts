import test from "ava";
import {
  type GroupSample,
  type HostSample,
  type QueueSample,
  ScalingDecider,
} from "../../services/control-plane/scaling/decide.js";
import { groupPolicy, parseGroupPolicy } from "../../services/control-plane/scaling/policy.js";

const host = (id: string, more: Partial<HostSample> = {}): HostSample => ({
  hostId: id,
  mailboxDepth: 0,
  turnsInFlight: 0,
  throttledPerSecond: 0,
  cpu: 0.5,
  draining: false,
  ...more,
});
const hosts = (n: number) => Array.from({ length: n }, (_, i) => host(`h${i}`));
const queue = (more: Partial<QueueSample>): QueueSample => ({
  name: "jobs.Work",
  pending: 0,
  ackPending: 0,
  arrivalPerSecond: 0,
  completionPerSecond: 0,
  oldestWaitMs: 0,
  ...more,
});
const sample = (n: number, q: Partial<QueueSample>): GroupSample => ({ queues: [queue(q)], hosts: hosts(n) });

const policy = (more: Parameters<typeof groupPolicy>[0] extends infer P ? Partial<P> : never = {}) =>
  groupPolicy({
    group: "work",
    minHosts: 1,
    maxHosts: 4,
    targetDrainMs: 10_000,
    jobsPerHost: 10,
    scaleDownWindowMs: 30_000,
    stuckAfterMs: 20_000,
    ...more,
  });

test("decide - a backlog one host drains too slowly asks for hosts at once, with the arithmetic as reason", (t) => {
  const decider = new ScalingDecider(policy({ maxHosts: 10 }));
  // 1 host, 10 jobs at once, 20/s: 2,000 waiting need 200/s for a 10 s drain → 10 hosts.
  const d = decider.decide(sample(1, { pending: 1990, ackPending: 10, completionPerSecond: 20 }), 0);
  t.is(d.currentHosts, 1);
  t.is(d.desiredHosts, 10);
  t.is(d.limitedBy, "");
  t.regex(d.reason, /backlog 2,000/);
  t.regex(d.reason, /20\/s per host drains in 100 s with 1 host; target 10 s → 10/);
  t.true(d.active);
});

test("decide - min and max bound the answer and say so", (t) => {
  const big = new ScalingDecider(policy()).decide(
    sample(1, { pending: 1e6, ackPending: 10, completionPerSecond: 20 }),
    0,
  );
  t.is(big.desiredHosts, 4);
  t.is(big.limitedBy, "max");
  t.regex(big.reason, /max 4/);
  const idle = new ScalingDecider(policy({ minHosts: 2 })).decide(sample(2, {}), 0);
  t.is(idle.desiredHosts, 2);
  t.is(idle.limitedBy, "min");
  const zero = new ScalingDecider(policy({ minHosts: 0 })).decide(sample(0, {}), 0);
  t.is(zero.desiredHosts, 0);
  t.false(zero.active, "scale to zero: KEDA's IsActive is false");
});

test("decide - scale-down waits out the stabilization window, scale-up does not", (t) => {
  const decider = new ScalingDecider(policy());
  let d = decider.decide(sample(1, { pending: 790, ackPending: 10, completionPerSecond: 20 }), 0);
  t.is(d.desiredHosts, 4);
  // The spike is gone: the raw recommendation drops to the minimum...
  d = decider.decide(sample(4, { completionPerSecond: 0 }), 5_000);
  t.is(d.rawHosts, 1);
  // ...but for the whole window the group keeps its hosts.
  t.is(d.desiredHosts, 4);
  t.is(d.limitedBy, "stabilization");
  t.regex(d.reason, /scale-down waits out the 30 s window/);
  d = decider.decide(sample(4, {}), 29_999);
  t.is(d.desiredHosts, 4);
  d = decider.decide(sample(4, {}), 30_001);
  t.is(d.desiredHosts, 1, "after the window the highest recent recommendation is the minimum");
});

test("decide - right after a start (no history, no rates yet) the hosts running stay for a down-window", (t) => {
  // A control plane restarts while 4 hosts run and the queue is momentarily empty: without a history
  // its first recommendation (the minimum) would remove 3 hosts at once.
  const restarted = new ScalingDecider(policy());
  let d = restarted.decide(sample(4, {}), 0);
  t.is(d.rawHosts, 1);
  t.is(d.desiredHosts, 4);
  t.is(d.limitedBy, "stabilization");
  t.regex(d.reason, /highest recent: 4, the most hosts seen since deciding started/);
  d = restarted.decide(sample(4, {}), 29_999);
  t.is(d.desiredHosts, 4);
  d = restarted.decide(sample(4, {}), 30_000);
  t.is(d.desiredHosts, 1, "after one down-window the recommendations alone decide");
  // Hosts reconnect to a restarted control plane one by one: the most seen counts.
  const reconnecting = new ScalingDecider(policy());
  t.is(reconnecting.decide(sample(0, {}), 0).desiredHosts, 1, "min");
  t.is(reconnecting.decide(sample(2, {}), 500).desiredHosts, 2);
  t.is(reconnecting.decide(sample(4, {}), 1000).desiredHosts, 4);
  t.is(
    reconnecting.decide(sample(3, {}), 2000).desiredHosts,
    4,
    "fewer reported for a moment: still 4 within the window",
  );
  // Never above max, and scale-up is not held back.
  t.is(new ScalingDecider(policy()).decide(sample(6, {}), 0).desiredHosts, 4);
  const spike = new ScalingDecider(policy()).decide(
    sample(1, { pending: 790, ackPending: 10, completionPerSecond: 20 }),
    0,
  );
  t.is(spike.desiredHosts, 4);
});

test("decide - a spike from zero scales up before any completion rate is known", (t) => {
  const decider = new ScalingDecider(policy({ minHosts: 0, targetBacklogPerHost: 100 }));
  t.is(decider.decide(sample(0, {}), 0).desiredHosts, 0);
  const d = decider.decide(sample(0, { pending: 250, arrivalPerSecond: 250 }), 1000);
  t.is(d.desiredHosts, 3);
  t.regex(d.reason, /no completion rate yet/);
});

test("decide - a stuck consumer (backlog, no completions) does not hold the group at max", (t) => {
  const decider = new ScalingDecider(policy({ scaleDownWindowMs: 10_000 }));
  // No rate known: the backlog alone asks for max.
  let d = decider.decide(sample(1, { pending: 5000, ackPending: 10 }), 0);
  t.is(d.desiredHosts, 4);
  for (let at = 1000; at < 20_000; at += 1000) {
    d = decider.decide(sample(4, { pending: 5000, ackPending: 40 }), at);
  }
  t.is(d.desiredHosts, 4, "before stuckAfterMs it may still be slow work");
  d = decider.decide(sample(4, { pending: 5000, ackPending: 40 }), 20_000);
  t.is(d.rawHosts, 1, "stuck: one host keeps pulling");
  t.regex(d.reason, /stuck/);
  for (let at = 21_000; at <= 31_000; at += 1000) {
    d = decider.decide(sample(4, { pending: 5000, ackPending: 40 }), at);
  }
  t.is(d.desiredHosts, 1, "after the down-window the group shrinks instead of staying at max forever");
  t.is(d.limitedBy, "stuck");
  // Completions again: the queue counts as progressing at once.
  d = decider.decide(sample(1, { pending: 5000, ackPending: 10, completionPerSecond: 20 }), 32_000);
  t.is(d.desiredHosts, 4);
  t.notRegex(d.reason, /stuck/);
});

test("decide - a flapping input does not flap the host count", (t) => {
  const decider = new ScalingDecider(policy());
  let current = 1;
  const seen: number[] = [current];
  for (let i = 0; i < 40; i++) {
    const high = i % 2 === 0;
    const s = sample(current, high ? { pending: 590, ackPending: 10, completionPerSecond: 20 } : {});
    const d = decider.decide(s, i * 1000);
    current = d.desiredHosts;
    seen.push(d.desiredHosts);
  }
  const changes = seen.filter((n, i) => i > 0 && n !== seen[i - 1]).length;
  t.is(changes, 1, `one scale-up, then steady: ${seen.join(",")}`);
  t.is(seen.at(-1), 3);
});

test("decide - never fewer hosts than the jobs in flight need", (t) => {
  const d = new ScalingDecider(policy({ scaleDownWindowMs: 0 })).decide(
    sample(4, { pending: 0, ackPending: 35, completionPerSecond: 1000 }),
    0,
  );
  t.is(d.inFlightFloor, 4);
  t.is(d.desiredHosts, 4);
  t.is(d.limitedBy, "in-flight");
});

test("decide - idle hosts scale down: throughput comes from Little's law, not from the arrival rate", (t) => {
  // 4 hosts keep up with 40/s easily: 2 jobs in flight over the group, 40 completions/s → one host
  // running 10 at once would do 200/s; 40/s needs one.
  const d = new ScalingDecider(policy({ scaleDownWindowMs: 0 })).decide(
    sample(4, { ackPending: 2, arrivalPerSecond: 40, completionPerSecond: 40 }),
    0,
  );
  t.is(d.desiredHosts, 1);
});

test("decide - throttled hosts: adding hosts would not raise the limit", (t) => {
  const s: GroupSample = {
    queues: [queue({ pending: 2000, ackPending: 20, completionPerSecond: 20 })],
    hosts: [host("a", { throttledPerSecond: 15 }), host("b")],
  };
  const d = new ScalingDecider(policy()).decide(s, 0);
  t.is(d.desiredHosts, 2);
  t.is(d.limitedBy, "throttled");
  t.regex(d.reason, /throttling/);
});

test("decide - calls piling up in mailboxes ask for hosts too", (t) => {
  const s: GroupSample = { queues: [], hosts: [host("a", { mailboxDepth: 250 })] };
  const d = new ScalingDecider(policy({ targetMailboxPerHost: 100 })).decide(s, 0);
  t.is(d.desiredHosts, 3);
  t.regex(d.reason, /250 calls waiting in mailboxes/);
});

test("decide - draining hosts are not counted as current", (t) => {
  const s: GroupSample = { queues: [], hosts: [host("a"), host("b", { draining: true })] };
  t.is(new ScalingDecider(policy()).decide(s, 0).currentHosts, 1);
});

test("policy - validated and parsed from the command line form", (t) => {
  const p = parseGroupPolicy("orders:min=0,max=8,drain=5s,down=60000,types=Report+Mail");
  t.like(p, { group: "orders", minHosts: 0, maxHosts: 8, targetDrainMs: 5000, scaleDownWindowMs: 60_000 });
  t.deepEqual(p.types, ["Report", "Mail"]);
  t.throws(() => parseGroupPolicy("orders:min=5,max=2"), { message: /minHosts \(5\) is above maxHosts/ });
  t.throws(() => parseGroupPolicy("bad name:max=2"), { message: /1-64 letters/ });
  t.throws(() => parseGroupPolicy("orders:speed=2"), { message: /unknown key "speed"/ });
  t.throws(() => parseGroupPolicy("orders:max=two"), { message: /maxHosts must be a whole number/ });
});
