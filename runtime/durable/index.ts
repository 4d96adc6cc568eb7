/**
 * The durable-consumer engine the job runner, the event subscribers and the reminder runner build
 * on: a bounded pull loop over one JetStream consumer, and the redelivery verdicts (retry with
 * backoff, or dead-letter) after a failed attempt.
 */
export type { DeadLetterReason } from "./dead-letter-reason.js";
export { HeldBack, throughInbound } from "./held-back.js";
export { once } from "./once.js";
export * from "./pull-loop.js";
export * from "./redelivery.js";
