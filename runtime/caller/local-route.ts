/**
 * In-process delivery as the caller sees it: a host of the same mesh connection that serves an
 * actor right now takes the call without the broker. The caller depends on this interface, not on
 * host/ (a `Host` satisfies it), so the call path goes down from the caller and never back up.
 */
import type { RunLocally } from "../transport/index.js";

export interface LocalRoute {
  /** Whether this host serves `typeName`/`actorId` right now (the type, and its shard if placed). */
  servesLocally(typeName: string, actorId: string): boolean;
  /** Delivers encoded call bytes (or a tell's, without `replyTo`) as if they came from NATS. */
  deliverLocally(
    typeName: string,
    actorId: string,
    subject: string,
    data: Uint8Array,
    replyTo: string | undefined,
    headers: Record<string, string> | undefined,
  ): void;
  /** Runs a call whose arguments the caller hands over (no encoding); settles on `replyTo`. */
  runLocally: RunLocally;
}
