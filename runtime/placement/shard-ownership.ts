/**
 * The shards of one actor type that this host owns, and the loop that keeps them right.
 *
 * On a membership change, the host lease coming back, and every `renewEveryMs` (only to retry what
 * is pending, or when what it owns differs from the assignment; nothing is written in a steady
 * state) it:
 * 1. computes the assignment over the roster's serving hosts of the type (rendezvous.ts), kept
 *    up to date by an `Assigner` (assigner.ts) at a cost proportional to what changed;
 * 2. hands off every owned shard assigned elsewhere: unsubscribe, let in-flight turns finish,
 *    deactivate (saving state), release the fence; the new owner takes it when it sees it released;
 * 3. releases fences that still name this host for shards it neither owns nor wants (left from a
 *    lease it lost), so nobody waits for them;
 * 4. takes every shard assigned here whose fence is free: never written, released, its own, or
 *    naming a host whose lease it proved gone (host-lease.ts) after reading the fence;
 *    then subscribes to it.
 *
 * A fence change does steps 3 and 4 for the shards whose fences changed only ({@link fenceChanged}):
 * the assignment is the same (it depends on the membership alone), so no other shard's decision
 * can change. At start every host of a type receives every other host's fence writes, so a scan of
 * every shard per change would cost hosts × shards per host.
 *
 * Safety: a shard is served only while this host owns its fence *and* its host lease is valid on
 * this host's monotonic clock (`HostLease.valid`); owning is tied to the lease's incarnation. When
 * the lease lapses (timer, or a call or turn that finds it lapsed after a pause) every shard of
 * every type stands down at once; see docs/placement.md for the whole argument.
 */
import type { ActorType } from "../actor/index.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import { inBatches, type SubscriptionHandle } from "../transport/index.js";
import { Assigner } from "./assigner.js";
import type { FenceHolder, FenceStore } from "./fences.js";
import type { Membership } from "./membership.js";
import type { ResolvedPlacementOptions } from "./options.js";

/** What the host does when a shard arrives or leaves. */
export interface ShardHooks {
  /** Starts delivering the shard's calls. */
  subscribe(shard: number): SubscriptionHandle;
  /** Graceful: waits for the shard's in-flight turns, then deactivates its actors (saving state). */
  deactivate(shard: number): Promise<void>;
  /** Abrupt: stands the shard's actors down without saving; returns how many there were. */
  abandon(shard: number): number;
}

/** Proves a host's lease gone (a compare-and-set on the server, see host-lease.ts). */
export type LeaseProbe = (hostId: string) => Promise<boolean>;

export type ShardState = "serving" | "handing-off";

interface Slot {
  readonly shard: number;
  readonly key: string;
  /** The fence revision this host wrote (the shard's epoch). */
  revision: number;
  readonly incarnation: number;
  state: ShardState;
  sub: SubscriptionHandle | undefined;
}

export interface HeldShard {
  readonly shard: number;
  readonly state: ShardState;
  /** The fence revision this host wrote when it took the shard (its epoch). */
  readonly revision: number;
  /** Milliseconds this host may still serve the shard without another lease renewal. */
  readonly validForMs: number;
}

export class ShardOwnership {
  private readonly slots = new Map<number, Slot>();
  private readonly handoffs = new Set<Promise<void>>();
  private readonly holder: FenceHolder;
  /** Removes this type's retry check from the host's shared tick. */
  private untick: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** The next reconcile looks at every shard (a membership or lease change, the retry tick). */
  private everyShard = true;
  /** Shards whose fence changed since the last reconcile (looked at by the next one). */
  private readonly changed = new Set<number>();
  private draining = false;
  /** Counts changes of `slots` (a take, a hand-off starting or ending, a loss). */
  private slotChanges = 0;
  /** The assignment and slot count at which {@link differs} last found nothing to do. */
  private agreed: { readonly want: readonly string[]; readonly slotChanges: number } | undefined;
  /** Whether the last reconcile left work to retry (a take-over, a release). */
  private pending = true;
  /** The assignment over the current view, updated as hosts join and leave. */
  private readonly assigner: Assigner;

  constructor(
    private readonly type: ActorType,
    private readonly membership: Membership,
    private readonly fences: FenceStore,
    private readonly probe: LeaseProbe,
    private readonly subjects: Subjects,
    private readonly options: ResolvedPlacementOptions,
    private readonly hooks: ShardHooks,
    private readonly logger: Logger,
  ) {
    this.holder = { hostId: membership.self.id, hostName: membership.self.name };
    this.assigner = new Assigner(type.name, type.shards);
  }

  /** Takes the first shards and starts the retry loop. */
  async start(): Promise<void> {
    this.everyShard = true;
    await this.reconcile();
    // One timer for every type of the host (membership.onTick), not one per type.
    this.untick = this.membership.onTick(this.options.renewEveryMs, () => {
      if (this.pending || this.differs()) this.reconcileSoon();
    });
  }

  /** Whether this host owns `shard` and its lease is valid on this host's clock (`now`: `performance.now()`). */
  serves(shard: number, now = performance.now()): boolean {
    const s = this.slots.get(shard);
    const lease = this.membership.lease;
    return s !== undefined && s.incarnation === lease.incarnation && lease.valid(now);
  }

  held(): HeldShard[] {
    const validForMs = Math.max(0, Math.round(this.membership.lease.validUntil - performance.now()));
    return [...this.slots.values()]
      .map((s) => ({ shard: s.shard, state: s.state, revision: s.revision, validForMs }))
      .sort((a, b) => a.shard - b.shard);
  }

  /** Runs a reconcile of every shard soon (coalesced with one already running). */
  reconcileSoon(): void {
    this.everyShard = true;
    this.run();
  }

  /** The fence of `shard` changed: reconcile that shard soon (coalesced with other changes). */
  fenceChanged(shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.type.shards) return;
    this.changed.add(shard);
    this.run();
  }

  private run(): void {
    void this.reconcile().catch((err: unknown) => this.logger.error("placement reconcile failed", { err }));
  }

  /** The host lease lapsed: stand every shard down now, without saving. */
  standDown(reason: string): void {
    for (const s of [...this.slots.values()]) this.lose(s, reason);
  }

  /** Hands off every shard and stops. */
  async drain(): Promise<void> {
    this.draining = true;
    // Hand-offs are decided by a pass over every shard, never by one over changed fences only.
    this.everyShard = true;
    await this.reconcile().catch((err: unknown) => this.logger.error("placement reconcile failed", { err }));
    while (this.handoffs.size > 0) await Promise.all(this.handoffs);
    this.untick?.();
    for (const s of this.slots.values()) this.lose(s, "host stopped");
  }

  /** Abrupt stop (no hand-off): the fences stay until the host lease is gone. */
  stop(): void {
    this.draining = true;
    this.untick?.();
    for (const s of [...this.slots.values()]) this.lose(s, "host stopped");
  }

  private reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const every = this.everyShard;
          this.everyShard = false;
          const only = every ? undefined : [...this.changed];
          this.changed.clear();
          await this.reconcileOnce(only);
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private wanted(): string[] {
    if (this.draining) return [];
    const hosts = this.membership
      .live()
      .filter((h) => h.status === "serving" && h.types.includes(this.type.name))
      .map((h) => h.id);
    const view = this.options.view ? this.options.view(this.type.name, hosts) : hosts;
    return this.assigner.assign(view);
  }

  /** Whether what this host owns differs from what it is assigned (no allocation: runs every tick). */
  private differs(): boolean {
    const self = this.holder.hostId;
    const want = this.wanted();
    // The same assignment (the Assigner returns the same array while the hosts are the same) and
    // no slot changed since the last check found them agreeing: nothing to look at again.
    if (want === this.agreed?.want && this.slotChanges === this.agreed.slotChanges) return false;
    for (let shard = 0; shard < this.type.shards; shard++) {
      const slot = this.slots.get(shard);
      if ((want[shard] === self) !== (slot?.state === "serving")) return true;
    }
    this.agreed = { want, slotChanges: this.slotChanges };
    return false;
  }

  /**
   * One pass over every shard, or over `only` (shards whose fence changed): the assignment did not
   * change since the last pass over every shard, so only those shards' fences can call for a write.
   */
  private async reconcileOnce(only?: readonly number[]): Promise<void> {
    const self = this.holder.hostId;
    const lease = this.membership.lease;
    const want = this.wanted();
    if (!only) {
      for (const slot of this.slots.values()) {
        if (slot.state === "serving" && want[slot.shard] !== self) this.handOff(slot);
      }
    }
    if (this.draining || !lease.valid()) {
      this.pending = !this.draining;
      return;
    }
    const incarnation = lease.incarnation;
    let inView: Set<string> | undefined;
    const takes: (() => Promise<void>)[] = [];
    /** Shards whose owner is not in the roster, by owner: taken once its lease is proved gone. */
    const orphans = new Map<string, number[]>();
    const visit = (shard: number) => {
      if (this.slots.has(shard)) return;
      const key = this.key(shard);
      const fence = this.fences.get(key);
      const mine = want[shard] === self;
      if (fence?.owner?.hostId === self) {
        // Left from an earlier incarnation: take it back, or let it go so nobody waits for it.
        takes.push(() =>
          mine ? this.take(shard, fence.revision, incarnation) : this.release(key, fence.revision),
        );
        return;
      }
      if (!mine) return;
      if (!fence?.owner) {
        takes.push(() => this.take(shard, fence?.revision ?? 0, incarnation));
        return;
      }
      inView ??= new Set(this.membership.live().map((h) => h.id));
      if (!inView.has(fence.owner.hostId)) {
        orphans.set(fence.owner.hostId, [...(orphans.get(fence.owner.hostId) ?? []), shard]);
      }
      // Otherwise its owner is in the roster: it hands the shard off when its view agrees.
    };
    if (only) for (const shard of only) visit(shard);
    else for (let shard = 0; shard < this.type.shards; shard++) visit(shard);
    for (const [owner, shards] of orphans) {
      takes.push(() =>
        (async () => {
          // Read the fences before the proof: a fence written after it names a live incarnation.
          const read = shards.map((shard) => ({ shard, fence: this.fences.get(this.key(shard)) }));
          if (!(await this.probe(owner))) return;
          await inBatches(
            read.map(
              ({ shard, fence }) =>
                () =>
                  fence?.owner?.hostId === owner
                    ? this.take(shard, fence.revision, incarnation)
                    : Promise.resolve(),
            ),
            IN_FLIGHT,
          );
        })().catch((err: unknown) =>
          this.logger.warn("taking over a lost host's shards failed", {
            actorType: this.type.name,
            owner,
            err,
          }),
        ),
      );
    }
    // A pass over some shards adds to what is pending; only a pass over every shard clears it.
    this.pending = takes.length > 0 || (only !== undefined && this.pending);
    await inBatches(takes, IN_FLIGHT);
  }

  private key(shard: number): string {
    return this.subjects.shardFenceKey(this.type.name, shard);
  }

  private async release(key: string, revision: number): Promise<void> {
    try {
      await this.fences.release(key, this.holder, revision);
    } catch (err) {
      this.logger.warn("releasing a shard fence failed", { actorType: this.type.name, key, err });
    }
  }

  private async take(shard: number, from: number, incarnation: number): Promise<void> {
    const key = this.key(shard);
    let revision: number | null;
    try {
      revision = await this.fences.acquire(key, this.holder, from);
    } catch (err) {
      this.logger.warn("taking a shard failed", { actorType: this.type.name, shard, err });
      return;
    }
    if (revision === null) return;
    const lease = this.membership.lease;
    if (this.draining || this.slots.has(shard)) {
      await this.release(key, revision);
      return;
    }
    // The fence is ours either way; serve it only under the lease it was taken with (else the next
    // reconcile takes it back under the new one).
    if (lease.incarnation !== incarnation || !lease.valid()) return;
    const slot: Slot = { shard, key, revision, incarnation, state: "serving", sub: undefined };
    this.slots.set(shard, slot);
    this.slotChanges++;
    slot.sub = this.hooks.subscribe(shard);
    this.logger.debug("took a shard", { actorType: this.type.name, shard, revision });
  }

  private handOff(slot: Slot): void {
    slot.state = "handing-off";
    this.slotChanges++;
    const done = (async () => {
      try {
        await slot.sub?.drain();
      } catch (err) {
        this.logger.warn("draining a shard subscription failed", {
          actorType: this.type.name,
          shard: slot.shard,
          err,
        });
      }
      const deactivated = this.hooks.deactivate(slot.shard);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        deactivated.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), this.options.handoffTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        const n = this.hooks.abandon(slot.shard);
        this.logger.warn("hand-off timed out; abandoned the shard's busy actors", {
          actorType: this.type.name,
          shard: slot.shard,
          activations: n,
        });
      }
      if (this.slots.get(slot.shard) !== slot) return; // stood down meanwhile
      this.slots.delete(slot.shard);
      this.slotChanges++;
      await this.release(slot.key, slot.revision);
      this.logger.debug("handed a shard off", { actorType: this.type.name, shard: slot.shard });
    })();
    this.handoffs.add(done);
    void done.finally(() => this.handoffs.delete(done));
  }

  private lose(slot: Slot, reason: string): void {
    if (this.slots.get(slot.shard) !== slot) return;
    this.slots.delete(slot.shard);
    this.slotChanges++;
    slot.sub?.unsubscribe();
    const activations = this.hooks.abandon(slot.shard);
    const level = reason === "host stopped" ? "debug" : "warn";
    this.logger[level]("stopped serving a shard", {
      actorType: this.type.name,
      shard: slot.shard,
      reason,
      activations,
    });
  }
}

/** Fence writes in flight at once per reconcile: a host taking thousands of shards at start must
 * not crowd out its own lease renewal. */
const IN_FLIGHT = 32;
