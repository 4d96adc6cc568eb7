/**
 * Wire formats, and every name on the wire: the codec (msgpackr behind a structural pre-scan),
 * call/reply/tell envelopes, the state codec, the caller header, and all subject, stream, bucket
 * and consumer names (`subjects.ts`). Other folders import this index, not the files.
 */
export * from "./caller.js";
export * from "./codec.js";
export * from "./envelope.js";
export * from "./inbox-user.js";
export * from "./job-envelope.js";
export * from "./job-ids.js";
export { type KeyPolicy, STATE_KEYS, scan, WIRE_KEYS } from "./msgpack-scan.js";
export * from "./state-codec.js";
export * from "./subjects.js";
