/**
 * The transport layer's entry for folders above it: the only nats.js importer. (Older folders
 * still import its files directly; those imports are recorded as known layer violations.)
 */
export { listConsumers } from "./jetstream-consumers.js";
export {
  type Backlog,
  type JetStreamQueues,
  jetStreamQueues,
  type PublishOptions as JetStreamPublishOptions,
  type StreamSpec,
} from "./jetstream-queue.js";
export {
  addStreamSources,
  describeStream,
  type StreamDescription,
  type StreamSourceSpec,
} from "./stream-sources.js";
export { addStreamSubjects, subjectCovers } from "./stream-subjects.js";
export {
  type KeyValueBucket,
  type KvChange,
  type MessageHeaders,
  RevisionMismatchError,
  type SubscriptionHandle,
  type Transport,
} from "./transport.js";
