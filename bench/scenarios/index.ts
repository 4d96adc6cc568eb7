/**
 * Every scenario `npm run bench` runs, in order. A scenario owns its rows (Troupe side by side with
 * the raw nats.js baseline doing the same work), the processes it spawns and the commands those
 * processes run; adding a row is adding a module here.
 *
 * Still to come with the issues that build them (issue 7's full list):
 * - durable job end to end vs raw JetStream work queue (async publish, pull consume, ack); target ≥ 0.70×
 * - pub-sub fan-out vs raw JetStream/core fan-out; target ≥ 0.80×
 * - tracing off vs 100% sampled with batch export; targets ≤ 3% and ≤ 25% overhead
 */
import type { Scenario } from "../lib/scenario.js";
import { coldActivation } from "./cold-activation.js";
import { idleMemory } from "./idle-memory.js";
import { requestReply } from "./request-reply.js";
import { tell } from "./tell.js";

export const SCENARIOS: Scenario[] = [
  requestReply,
  tell,
  coldActivation,
  idleMemory,
  // jobs (durable queue), pubsub (fan-out) and tracing scenarios go here.
];
