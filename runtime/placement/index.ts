/**
 * Placement's entry for folders above it: membership, host leases, shard fences, ownership and
 * the assignment (docs/placement.md). (Older importers still reach files inside; those imports are
 * recorded as known layer violations.)
 */
export type { ChangeStream } from "./change-stream.js";
export { type Fence, type FenceHolder, FenceStore, parseFence } from "./fences.js";
export { HostLease, isTombstone, provedGone } from "./host-lease.js";
export { type HostRecord, Membership, type MembershipChange, parseHostRecord } from "./membership.js";
export { DEFAULT_HEARTBEAT_EVERY_MS, type PlacementOptions, resolvePlacementOptions } from "./options.js";
export { retryStartup } from "./retry.js";
export { shardOf } from "./shard.js";
export { type HeldShard, ShardOwnership } from "./shard-ownership.js";
