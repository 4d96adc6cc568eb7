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
  /**
   * A core NATS publish (tells, `durable: false` events); throws when it cannot be handed to the
   * connection. A tell comes back with a {@link CoreSend}: whether it found its receiver is known
   * once a {@link flush} after it resolved.
   */
  publishCore(entry: OutboxEntry): CoreSend | undefined;
  /** Resolves once everything published so far reached the server. */
  flush(): Promise<void>;
  /** Whether a failure (of {@link publishDurable}, or a tell's refusal) means this entry is refused for good. */
  isPermanent(err: unknown): boolean;
}

/**
 * What a tell heard. The server answers a publish that finds no subscriber ("no responders")
 * before it answers a later flush, so after a {@link OutboxLink.flush} a tell without a refusal
 * reached a host. (A host's own refusal, e.g. while it drains, may come later: it is then the
 * mesh's to handle, as for any tell.)
 */
export interface CoreSend {
  /** The refusal heard so far (nobody serves the destination, or its host refused it unrun). */
  refusal(): unknown;
  /** Stops listening for an answer. */
  release(): void;
}
