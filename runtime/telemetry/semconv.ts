/**
 * The attribute names Troupe's spans and metrics use. The messaging ones are copied from the
 * OpenTelemetry semantic conventions (`@opentelemetry/semantic-conventions/incubating`, messaging
 * conventions still in "development" status): the OpenTelemetry JS advice is to copy the few you
 * need rather than depend on the incubating entry point. `troupe.*` names are ours.
 */

/** `nats` (a custom value: the conventions list no well-known value for NATS). */
export const ATTR_MESSAGING_SYSTEM = "messaging.system";
export const MESSAGING_SYSTEM_NATS = "nats";

/** System-specific operation name: `call`, `send`, `enqueue`, `publish`, `process`. */
export const ATTR_MESSAGING_OPERATION_NAME = "messaging.operation.name";
/** Generic operation kind, one of {@link MessagingOperationType}. */
export const ATTR_MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export type MessagingOperationType = "create" | "send" | "receive" | "process" | "settle";

/** The NATS subject (bounded cardinality: shard subjects, queue and topic subjects; never an inbox). */
export const ATTR_MESSAGING_DESTINATION_NAME = "messaging.destination.name";
export const ATTR_MESSAGING_MESSAGE_ID = "messaging.message.id";
/** Core NATS queue group. */
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = "messaging.consumer.group.name";
/** JetStream durable consumer. */
export const ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME = "messaging.destination.subscription.name";

/** The error's stable `code` when it has one (`TROUPE_OVERLOADED`), else its class name. */
export const ATTR_ERROR_TYPE = "error.type";

export const ATTR_TROUPE_ACTOR_TYPE = "troupe.actor.type";
export const ATTR_TROUPE_ACTOR_ID = "troupe.actor.id";
export const ATTR_TROUPE_METHOD = "troupe.method";
/** Delivery attempt of a job (1 for the first delivery). No generic messaging attribute exists yet. */
export const ATTR_TROUPE_DELIVERY_ATTEMPT = "troupe.delivery.attempt";
