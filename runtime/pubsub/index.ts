/**
 * Publish-subscribe: events on `<prefix>.evt.<topic>`, durable ones stored in `<prefix>_events`;
 * every subscribing actor type (method) gets its copy through its own durable consumer, the hosts
 * of a type compete within it. See docs/patterns/publish-subscribe.md.
 */

export { EventNames } from "../messaging/index.js";
export {
  type DeviceMessage,
  DeviceNames,
  type DevicePayload,
  ensureDeviceStream,
  mqttFilterToSubject,
  mqttTopicToSubject,
  subjectToMqttTopic,
} from "./devices.js";
export { PublishFailedError } from "./errors.js";
export { decodeEvent, type EventInfo } from "./event.js";
export { type CompiledFilter, compileFilter } from "./filter.js";
export { listSubscriptions, type SubscriptionRow } from "./list.js";
export {
  type PublishOptions,
  type PublishReceipt,
  prepareEventsStream,
  publish,
} from "./publish.js";
export { type EventStreamOptions, ensureEventsStream, eventNamesOf } from "./streams.js";
export { type SubscribeOptions, type SubscriptionSpec, subscribe, subscriptionsOf } from "./subscribe.js";
export type { SubscriberEvent, SubscribersOptions, SubscriptionStats } from "./subscriber-options.js";
export { Subscribers, startSubscribers } from "./subscribers.js";
export { assertPattern, assertTopic, topicMatches } from "./topics.js";
