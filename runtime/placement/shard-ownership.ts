/**
 * The shards of one actor type that this host holds, and the loop that keeps them right.
 *
 * Every `renewEveryMs` (and at once on a membership change or a released lease) it:
 * 1. computes the assignment over the live hosts of the type (rendezvous.ts);
 * 2. hands off every held shard assigned elsewhere: unsubscribe, let in-flight turns finish,
 *    deactivate (saving state), release the lease; the new owner takes it when it sees it freed;
 * 3. tries to take every free shard assigned here, and subscribes to it once taken;
 * 4. renews every held lease.
 *
 * Safety: a shard is served only while `performance.now() < validUntil`, where validUntil is the
 * send time of the last successful take/renewal + leaseTtl - safetyMargin. The server cannot
 * expire the lease before `send time + leaseTtl` (its TTL clock starts when it stores the write),
 * so the holder stops before anyone else can take over, if the clocks run at about the same rate.
 * A timer at validUntil stands the shard down (unsubscribe, abandon its activations without
 * saving); every call and every turn also checks `serves(shard)`, which covers a process that was
 * paused past validUntil and wakes before that timer runs.
 */
import type { ActorType } from "../actor/actor-type.js";
import type { Logger } from "../log.js";
import type { Subjects } from "../messaging/index.js";
import { RevisionMismatchError, type SubscriptionHandle } from "../transport/transport.js";
import type { LeaseHolder, LeaseStore } from "./leases.js";
import type { Membership } from "./membership.js";
import type { ResolvedPlacementOptions } from "./options.js";
import { assignShards } from "./rendezvous.js";

/** What the host does when a shard arrives or leaves. */
export interface ShardHooks {
  /** Starts delivering the shard's calls. */
  subscribe(shard: number): SubscriptionHandle;
  /** Graceful: waits for the shard's in-flight turns, then deactivates its actors (saving state). */
  deactivate(shard: number): Promise<void>;
  /** Abrupt: stands the shard's actors down without saving; returns how many there were. */
  abandon(shard: number): number;
}

export type ShardState = "serving" | "handing-off";

interface Slot {
  readonly shard: number;
  readonly key: string;
  revision: number;
  validUntil: number;
  state: ShardState;
  sub: SubscriptionHandle | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Serializes renewals and the release of this lease. */
  chain: Promise<void>;
}

export interface HeldShard {
  readonly shard: number;
  readonly state: ShardState;
  readonly revision: number;
  /** Milliseconds this host may still serve the shard without another renewal. */
  readonly validForMs: number;
}

export class ShardOwnership {
  private readonly slots = new Map<number, Slot>();
  /** Revisions of leases lost by timeout only: renewing them again proves nobody took over. */
  private readonly lapsed = new Map<number, number>();
  private readonly handoffs = new Set<Promise<void>>();
  private readonly holder: LeaseHolder;
  private ticker: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private draining = false;

  constructor(
    private readonly type: ActorType,
    private readonly membership: Membership,
    private readonly leases: LeaseStore,
    private readonly subjects: Subjects,
    private readonly options: ResolvedPlacementOptions,
    private readonly hooks: ShardHooks,
    private readonly logger: Logger,
  ) {
    this.holder = { hostId: membership.self.id, hostName: membership.self.name };
  }

  /** Takes the first shards and starts the renew/rebalance loop. */
  async start(): Promise<void> {
    await this.reconcile();
    this.ticker = setInterval(() => {
      this.renewAll();
      this.reconcileSoon();
    }, this.options.renewEveryMs).unref();
  }

  /** Whether this host may serve `shard` right now (its lease is valid on this host's clock). */
  /** Whether this host holds `shard` and its lease is still valid on this host's clock (`now`: `performance.now()`). */
  serves(shard: number, now = performance.now()): boolean {
    const s = this.slots.get(shard);
    return s !== undefined && now < s.validUntil;
  }

  held(): HeldShard[] {
    const now = performance.now();
    return [...this.slots.values()]
      .map((s) => ({
        shard: s.shard,
        state: s.state,
        revision: s.revision,
        validForMs: Math.max(0, Math.round(s.validUntil - now)),
      }))
      .sort((a, b) => a.shard - b.shard);
  }

  /** Runs a reconcile soon (coalesced with one already running). */
  reconcileSoon(): void {
    void this.reconcile().catch((err: unknown) => this.logger.error("placement reconcile failed", { err }));
  }

  /** Hands off every shard and stops. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.reconcile().catch((err: unknown) => this.logger.error("placement reconcile failed", { err }));
    while (this.handoffs.size > 0) await Promise.all(this.handoffs);
    clearInterval(this.ticker);
    for (const s of this.slots.values()) this.lose(s, "host stopped");
  }

  /** Abrupt stop (no hand-off): leases expire by TTL. */
  stop(): void {
    this.draining = true;
    clearInterval(this.ticker);
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
          await this.reconcileOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    const self = this.holder.hostId;
    const hosts = this.draining
      ? []
      : this.membership
          .live()
          .filter((h) => h.status === "serving" && h.types.includes(this.type.name))
          .map((h) => h.id);
    const want = assignShards(this.type.name, this.type.shards, hosts);
    for (const slot of this.slots.values()) {
      if (slot.state === "serving" && want[slot.shard] !== self) this.handOff(slot);
    }
    if (this.draining) return;
    const takes: Promise<void>[] = [];
    for (let shard = 0; shard < this.type.shards; shard++) {
      if (want[shard] !== self || this.slots.has(shard)) continue;
      if (!this.lapsed.has(shard) && !this.leases.maybeFree(this.key(shard))) continue;
      takes.push(this.take(shard));
    }
    await Promise.all(takes);
  }

  private key(shard: number): string {
    return this.subjects.leaseKey(this.type.name, shard);
  }

  private async take(shard: number): Promise<void> {
    const key = this.key(shard);
    const sentAt = performance.now();
    let revision: number | null = null;
    try {
      const lapsed = this.lapsed.get(shard);
      this.lapsed.delete(shard);
      if (lapsed !== undefined) {
        revision = await this.leases.renew(key, this.holder, lapsed).catch(() => null);
      }
      revision ??= await this.leases.take(key, this.holder);
    } catch (err) {
      this.logger.warn("taking a shard lease failed", { actorType: this.type.name, shard, err });
      return;
    }
    if (revision === null) return;
    const slot: Slot = {
      shard,
      key,
      revision,
      validUntil: sentAt + this.options.leaseTtlMs - this.options.safetyMarginMs,
      state: "serving",
      sub: undefined,
      timer: undefined,
      chain: Promise.resolve(),
    };
    if (this.draining || this.slots.has(shard) || performance.now() >= slot.validUntil) {
      await this.leases.release(key, revision).catch(() => undefined);
      return;
    }
    this.slots.set(shard, slot);
    this.arm(slot);
    slot.sub = this.hooks.subscribe(shard);
    this.logger.debug("took a shard", { actorType: this.type.name, shard, revision });
  }

  private arm(slot: Slot): void {
    clearTimeout(slot.timer);
    const ms = Math.max(0, slot.validUntil - performance.now());
    slot.timer = setTimeout(() => {
      if (performance.now() >= slot.validUntil) this.lose(slot, "lease not renewed in time", true);
      else this.arm(slot);
    }, ms);
    slot.timer.unref();
  }

  private renewAll(): void {
    for (const slot of this.slots.values()) {
      slot.chain = slot.chain.then(() => this.renew(slot));
    }
  }

  private async renew(slot: Slot): Promise<void> {
    if (this.slots.get(slot.shard) !== slot) return;
    const sentAt = performance.now();
    try {
      const revision = await this.leases.renew(slot.key, this.holder, slot.revision);
      if (this.slots.get(slot.shard) !== slot) {
        // Stood down by the timer while the renewal was under way: we still hold it at this revision.
        if (!this.slots.has(slot.shard)) this.lapsed.set(slot.shard, revision);
        return;
      }
      slot.revision = revision;
      slot.validUntil = sentAt + this.options.leaseTtlMs - this.options.safetyMarginMs;
      this.arm(slot);
    } catch (err) {
      if (err instanceof RevisionMismatchError) this.lose(slot, "lease taken by another host");
      else
        this.logger.warn("renewing a shard lease failed", {
          actorType: this.type.name,
          shard: slot.shard,
          err,
        });
    }
  }

  private handOff(slot: Slot): void {
    slot.state = "handing-off";
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
      slot.chain = slot.chain.then(async () => {
        if (this.slots.get(slot.shard) !== slot) return;
        this.slots.delete(slot.shard);
        clearTimeout(slot.timer);
        try {
          await this.leases.release(slot.key, slot.revision);
        } catch (err) {
          this.logger.warn("releasing a shard lease failed; it expires by TTL", {
            actorType: this.type.name,
            shard: slot.shard,
            err,
          });
        }
        this.logger.debug("handed a shard off", { actorType: this.type.name, shard: slot.shard });
      });
      await slot.chain;
    })();
    this.handoffs.add(done);
    void done.finally(() => this.handoffs.delete(done));
  }

  private lose(slot: Slot, reason: string, keepRevision = false): void {
    if (this.slots.get(slot.shard) !== slot) return;
    this.slots.delete(slot.shard);
    clearTimeout(slot.timer);
    slot.sub?.unsubscribe();
    if (keepRevision) this.lapsed.set(slot.shard, slot.revision);
    const activations = this.hooks.abandon(slot.shard);
    const level = reason === "host stopped" ? "debug" : "warn";
    this.logger[level]("stopped serving a shard", {
      actorType: this.type.name,
      shard: slot.shard,
      reason,
      activations,
    });
    if (!this.draining) setTimeout(() => this.reconcileSoon(), 0).unref();
  }
}
