/**
 * The transport layer's entry for folders above it: the only nats.js importer. Other folders
 * import it through this file (older deep imports are recorded as known layer violations).
 */

export type { NatsOptions } from "./connection.js";
export { assertWellFormedHeaders, malformedHeadersError } from "./headers.js";
export { inBatches } from "./in-batches.js";
export {
  type ConsumerListing,
  type DurableConsumerSpec,
  deleteConsumer,
  type EnsureOutcome,
  ensureDurableConsumer,
  listConsumers,
} from "./jetstream-consumers.js";
export {
  type Backlog,
  type ConsumerCounts,
  JetStreamPublishError,
  type JetStreamPuller,
  type JetStreamQueues,
  jetStreamQueues,
  type PublishOptions as JetStreamPublishOptions,
  type PublishResult,
  type PullConsumerSpec,
  type PullError,
  type PullListener,
  type QueueMessage,
  type StoredMessage,
  type StreamCounts,
  StreamLimitError,
  type StreamSpec,
} from "./jetstream-queue.js";
export { LateTransport } from "./late-transport.js";
export { NatsTransport } from "./nats-transport.js";
export type { RetainedMessage } from "./one-way-ring.js";
export { isPermissionDenied } from "./permission-log.js";
export { withMeshDefaults } from "./servers.js";
export {
  addStreamSources,
  describeStream,
  ensureSourcedStream,
  jetStreamDomain,
  type RemoteStreamSubjects,
  remoteStreamSubjects,
  type SourcedStreamSpec,
  type StreamDescription,
  type StreamSourceSpec,
} from "./stream-sources.js";
export { addStreamSubjects, subjectCovers } from "./stream-subjects.js";
export {
  type BucketOptions,
  type InboundMessage,
  type KeyValueBucket,
  type KvChange,
  type KvRecord,
  type KvWatch,
  type MessageHeaders,
  type OneWayAnswerHandler,
  type RequestOutcome,
  RevisionMismatchError,
  type RunLocally,
  type SubscribeOptions,
  type SubscriptionHandle,
  type Transport,
} from "./transport.js";
