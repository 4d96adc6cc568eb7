/**
 * The transport layer's entry for folders above it: the only nats.js importer. (Older folders
 * still import its files directly; those imports are recorded as known layer violations.)
 */
export {
  type KeyValueBucket,
  type KvChange,
  RevisionMismatchError,
  type SubscriptionHandle,
} from "./transport.js";
