/**
 * What the outbox needs from the mesh to forward its entries: the mesh implements it over its
 * connection (runtime/mesh.ts), so this folder never sees the transport or the job and event
 * modules.
 */
import type { OutboxEntry, Preparation } from "./entry.js";

export interface OutboxLink {
  /** Whether the connection to NATS is up now. */
  readonly connected: boolean;
  /** Calls `listener` on every change of {@link connected}. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  /** Creates what a JetStream entry's destination needs (its stream), if missing. */
  prepare(p: Preparation): Promise<void>;
  /** A JetStream publish with `Nats-Msg-Id: entry.msgId`; resolves on the PubAck (a duplicate counts). */
  publishDurable(entry: OutboxEntry): Promise<void>;
  /** A core NATS publish (tells, `durable: false` events); throws when it cannot be handed to the connection. */
  publishCore(entry: OutboxEntry): void;
  /** Resolves once everything published so far reached the server. */
  flush(): Promise<void>;
  /** Whether a failure of {@link publishDurable} means the server refuses this entry for good. */
  isPermanent(err: unknown): boolean;
}
