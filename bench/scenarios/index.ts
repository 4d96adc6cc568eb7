/**
 * Every scenario `npm run bench` runs, in order. A scenario owns its rows (Troupe side by side with
 * the raw nats.js baseline doing the same work), the processes it spawns and the commands those
 * processes run; adding a row is adding a module here.
 */
import type { Scenario } from "../lib/scenario.js";
import { coldActivation } from "./cold-activation.js";
import { gateway } from "./gateway.js";
import { idleMemory } from "./idle-memory.js";
import { jobs } from "./jobs.js";
import { outbox } from "./outbox.js";
import { placement } from "./placement.js";
import { pubsub } from "./pubsub.js";
import { requestReply } from "./request-reply.js";
import { tell } from "./tell.js";
import { throttling } from "./throttling.js";
import { tracing } from "./tracing.js";

export const SCENARIOS: Scenario[] = [
  requestReply,
  tell,
  jobs,
  pubsub,
  coldActivation,
  idleMemory,
  tracing,
  gateway,
  outbox,
  throttling,
  placement,
];
