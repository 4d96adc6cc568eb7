/**
 * The durable-consumer engine the job runner, the event subscribers and the reminder runner build
 * on: a bounded pull loop over one JetStream consumer, waiting out an open circuit, the redelivery
 * verdicts (retry with backoff, or dead-letter) after a failed attempt, the dead-letter record, its
 * writer and its stream, and the narrow services (services.ts) the patterns take from the mesh
 * instead of the `Mesh` class.
 */
export { throughOpenCircuit } from "./circuit-wait.js";
export * from "./dead-letter.js";
export type { DeadLetterReason } from "./dead-letter-reason.js";
export * from "./dead-letter-writer.js";
export { DEFAULT_DLQ_MAX_AGE_MS, ensureDlqStream } from "./dlq-stream.js";
export { domainOf, knownDomainOf, originDomainOf, readDomainOf, settledDomainOf } from "./domain.js";
export { HeldBack, throughInbound } from "./held-back.js";
export { once } from "./once.js";
export * from "./pull-loop.js";
export * from "./redelivery.js";
export type { MeshConnection, OutboundSends, OutboxWriter, TurnDelivery } from "./services.js";
