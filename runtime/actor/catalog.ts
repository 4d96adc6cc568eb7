/**
 * The activations of one actor type on this host: finds or creates the activation for an id,
 * deactivates idle ones, and deactivates everything on drain.
 */
import type { Logger } from "../log.js";
import { Activation, type ActivationHost } from "./activation.js";
import type { ContextServices } from "./actor-context.js";
import type { ActorType } from "./actor-type.js";
import type { StateStore } from "./state-store.js";
import type { ActivationStatus, Turn } from "./turn.js";

export interface CatalogStats {
  readonly activations: number;
  readonly queued: number;
}

export interface CatalogOptions {
  /** See {@link ActivationHost.admits}. Default: every turn is admitted. */
  admit?: (id: string, now: number) => boolean;
}

export interface ActivationInfo {
  readonly id: string;
  readonly status: ActivationStatus;
  readonly queued: number;
}

export class Catalog implements ActivationHost {
  private readonly activations = new Map<string, Activation>();
  /** Deactivations in progress, so a new activation of the same id waits for the final save. */
  private readonly deactivating = new Map<string, Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;
  readonly admits?: (id: string, now: number) => boolean;

  constructor(
    readonly type: ActorType,
    readonly store: StateStore | undefined,
    readonly logger: Logger,
    readonly contextServices: ContextServices,
    options: CatalogOptions = {},
  ) {
    if (options.admit) this.admits = options.admit;
    const every = Math.min(30_000, Math.max(20, Math.floor(type.idleAfterMs / 4)));
    this.sweeper = setInterval(() => this.sweepIdle(), every).unref();
  }

  /**
   * Delivers a turn to the activation of `id`, creating it if needed. `now`: the caller's
   * `performance.now()`, if it has one (positional, not an options object: this runs per call).
   */
  dispatch(id: string, turn: Turn, now?: number, unbounded = false): void {
    let activation = this.activations.get(id);
    if (!activation) {
      activation = new Activation(id, this, this.deactivating.get(id));
      this.activations.set(id, activation);
    }
    activation.deliver(turn, now, unbounded);
  }

  stats(): CatalogStats {
    let queued = 0;
    for (const a of this.activations.values()) queued += a.queued;
    return { activations: this.activations.size, queued };
  }

  has(id: string): boolean {
    return this.activations.has(id);
  }

  /** The live activations, at most `limit` of them. */
  list(limit = Number.POSITIVE_INFINITY): ActivationInfo[] {
    const out: ActivationInfo[] = [];
    for (const a of this.activations.values()) {
      if (out.length >= limit) break;
      out.push({ id: a.id, status: a.status, queued: a.queued });
    }
    return out;
  }

  /**
   * Graceful hand-off of the ids matching `select` (a shard that moves): waits until each of their
   * mailboxes is empty, then deactivates them (`onDeactivate`, final save). The caller must have
   * stopped delivering new turns for these ids first.
   */
  async deactivateWhere(select: (id: string) => boolean): Promise<void> {
    for (;;) {
      const batch = [...this.activations].filter(([id]) => select(id));
      if (batch.length === 0) break;
      await Promise.all(batch.map(([, a]) => a.whenIdle()));
      await Promise.all(
        batch.map(([id, a]) => (this.activations.get(id) === a ? this.deactivate(id, a) : Promise.resolve())),
      );
    }
    await Promise.all([...this.deactivating].filter(([id]) => select(id)).map(([, p]) => p));
  }

  /**
   * Abrupt stand-down of the ids matching `select` (their shard's lease was lost): nothing is
   * saved, queued turns are refused unrun with `error`. Turns already running finish; their saves
   * are fenced by the state revision.
   */
  abandonWhere(select: (id: string) => boolean, error: (turn: Turn) => unknown): number {
    let n = 0;
    for (const [id, a] of this.activations) {
      if (!select(id)) continue;
      this.activations.delete(id);
      a.abandon(error);
      n++;
    }
    return n;
  }

  onStoodDown(activation: Activation, unrun: Turn[]): void {
    if (this.activations.get(activation.id) === activation) this.activations.delete(activation.id);
    // A fresh activation loads the newer state and runs what the stale one did not.
    for (const turn of unrun) this.dispatch(activation.id, turn, undefined, true);
  }

  onFailed(activation: Activation): void {
    if (this.activations.get(activation.id) === activation) this.activations.delete(activation.id);
  }

  private sweepIdle(): void {
    const cutoff = performance.now() - this.type.idleAfterMs;
    for (const [id, a] of this.activations) {
      if (a.status === "active" && !a.busy && a.lastActive <= cutoff) void this.deactivate(id, a);
    }
  }

  private deactivate(id: string, activation: Activation): Promise<void> {
    this.activations.delete(id);
    const done = activation.deactivate().finally(() => {
      if (this.deactivating.get(id) === done) this.deactivating.delete(id);
    });
    this.deactivating.set(id, done);
    return done;
  }

  /** Waits for every mailbox to empty, then deactivates everything (saving state). */
  async drain(): Promise<void> {
    clearInterval(this.sweeper);
    while (this.activations.size > 0) {
      const batch = [...this.activations];
      await Promise.all(batch.map(([, a]) => a.whenIdle()));
      await Promise.all(
        batch.map(([id, a]) => (this.activations.get(id) === a ? this.deactivate(id, a) : Promise.resolve())),
      );
    }
    await Promise.all(this.deactivating.values());
  }

  /** Stops the idle sweeper without deactivating (used when the host stops abruptly). */
  stop(): void {
    clearInterval(this.sweeper);
  }
}
