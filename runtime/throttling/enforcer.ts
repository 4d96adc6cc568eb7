/**
 * The local enforcer: decides, on the host, whether a turn may run, from the shares of each
 * cluster-wide limit the control plane last sent ({@link LocalEnforcer.applyShares}). It never does
 * I/O and never waits: `decide` is synchronous, so a call never waits for the control plane, and
 * with no shares yet (or none left) every turn is allowed.
 *
 * - Every policy matching the turn must admit it: its key's token bucket has a token, and its
 *   key's running turns are below the concurrency share. Tokens are taken only when all admit.
 * - Refused: a {@link ThrottledError} with `retryAfterMs` (when the bucket's next token is due; a
 *   fixed hint for concurrency), `policy`, `limit` (the cluster-wide figure) and `remaining`.
 * - Allowed: call `release()` when the turn ends (it frees a concurrency slot; calling it twice is
 *   harmless).
 * - {@link LocalEnforcer.takeUsage} returns the counts since its last call, for the usage report.
 *
 * @example
 * ```ts
 * const enforcer = new LocalEnforcer();
 * enforcer.applyShares(shares);                          // from the host channel
 * const d = enforcer.decide({ caller: "app-1", actorType: "Cart", method: "add", hop: "call" });
 * if (!d.allowed) throw d.error;
 * try { await runTurn(); } finally { d.release(); }
 * ```
 */
import { ConfigurationError, ThrottledError } from "../errors.js";
import type { Logger } from "../log.js";
import type { KeyUsage, PolicyShare__Output, Shares__Output } from "../protos/index.js";
import { InvalidPolicyError } from "./errors.js";
import { type CompiledMatch, compileMatch, type ThrottleInput, type ThrottleKeyFunction } from "./match.js";
import { type Policy, type PolicyLimit, validateLimit, validatePolicy } from "./policy.js";
import { TokenBucket } from "./token-bucket.js";

export type Decision =
  | { readonly allowed: true; release(): void }
  | { readonly allowed: false; readonly error: ThrottledError };

/** Retry hint for a turn refused by a concurrency limit (no bucket says when a slot frees up). */
export const CONCURRENCY_RETRY_AFTER_MS = 100;
/** Distinct keys remembered per policy; further keys share one overflow key (stricter, never looser). */
export const MAX_KEYS_PER_POLICY = 10_000;
const OVERFLOW_KEY = "\u0000overflow";

const NOOP = (): void => {};
const ALLOWED: Decision = { allowed: true, release: NOOP };

/** Turns allowed and refused by one policy since the enforcer started (monotonic, for metrics). */
export interface PolicyCounters {
  allowed: number;
  refused: number;
}

interface KeyState {
  totals: PolicyCounters;
  share: PolicyLimit;
  bucket: TokenBucket | undefined;
  inFlight: number;
  allowed: number;
  refused: number;
}

interface PolicyState {
  policy: Policy;
  match: CompiledMatch;
  defaultShare: PolicyLimit;
  keyShares: Map<string, PolicyLimit>;
  keys: Map<string, KeyState>;
}

export class LocalEnforcer {
  private states: PolicyState[] = [];
  private generation = -1;
  private readonly totals = new Map<string, PolicyCounters>();

  private readonly keyFunctions: ReadonlyMap<string, ThrottleKeyFunction>;
  private readonly missingFunctions = new Set<string>();

  constructor(
    private readonly logger?: Logger,
    private readonly now: () => number = () => performance.now(),
    /** Key functions KEY_BY_FUNCTION policies name (`key_function`), by name. */
    keyFunctions: Readonly<Record<string, ThrottleKeyFunction>> = {},
  ) {
    for (const [name, fn] of Object.entries(keyFunctions)) {
      if (typeof fn !== "function") throw new ConfigurationError(`key function ${name} is not a function`);
    }
    this.keyFunctions = new Map(Object.entries(keyFunctions));
  }

  /** The generation of the shares in force (-1 before the first). */
  get sharesGeneration(): number {
    return this.generation;
  }

  /** Names of the policies in force. */
  policies(): string[] {
    return this.states.map((s) => s.policy.name);
  }

  /**
   * Replaces the shares in force. A policy or key that stays keeps its bucket level and running
   * turns; an invalid entry is skipped and logged (the others still apply).
   */
  applyShares(shares: Shares__Output): void {
    const previous = new Map(this.states.map((s) => [s.policy.name, s]));
    const next: PolicyState[] = [];
    for (const entry of shares.policies ?? []) {
      const state = this.stateFor(entry, previous);
      if (state) next.push(state);
    }
    this.states = next;
    this.generation = Number(shares.generation ?? 0);
  }

  decide(input: ThrottleInput): Decision {
    if (this.states.length === 0) return ALLOWED;
    let matched: KeyState[] | undefined;
    let refusal: ThrottledError | undefined;
    for (const state of this.states) {
      if (!state.match.matches(input)) continue;
      const key = this.keyState(state, state.match.keyOf(input));
      const refused = this.refusal(state, key);
      if (refused) {
        key.refused += 1;
        key.totals.refused += 1;
        if (!refusal || refused.retryAfterMs > refusal.retryAfterMs) refusal = refused;
      } else {
        matched ??= [];
        matched.push(key);
      }
    }
    if (refusal) return { allowed: false, error: refusal };
    if (!matched) return ALLOWED;
    let holdsSlots = false;
    for (const key of matched) {
      key.bucket?.take();
      key.allowed += 1;
      key.totals.allowed += 1;
      if (key.share.maxConcurrency > 0 || key.inFlight > 0) {
        key.inFlight += 1;
        holdsSlots = true;
      }
    }
    if (!holdsSlots) return ALLOWED;
    const slots = matched.filter((k) => k.inFlight > 0);
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        for (const key of slots) key.inFlight = Math.max(0, key.inFlight - 1);
      },
    };
  }

  /**
   * {@link decide} for an admission check: throws the `ThrottledError` of a refusal; else returns
   * the function that frees the turn's slots, or undefined when it holds none.
   */
  admit(input: ThrottleInput): (() => void) | undefined {
    const decision = this.decide(input);
    if (!decision.allowed) throw decision.error;
    return decision === ALLOWED ? undefined : decision.release;
  }

  /**
   * Turns allowed and refused per policy name since this enforcer started: monotonic counters for a
   * metrics exporter (e.g. an observable counter `troupe.throttle.decisions` by policy and outcome).
   */
  counters(): Map<string, Readonly<PolicyCounters>> {
    return new Map(this.totals);
  }

  /** Counts since the previous call (keys with nothing to say are left out and forgotten when idle). */
  takeUsage(): KeyUsage[] {
    const out: KeyUsage[] = [];
    for (const state of this.states) {
      for (const [key, ks] of state.keys) {
        if (ks.allowed > 0 || ks.refused > 0 || ks.inFlight > 0) {
          out.push({
            policy: state.policy.name,
            key,
            allowed: ks.allowed,
            refused: ks.refused,
            inFlight: ks.inFlight,
          });
          ks.allowed = 0;
          ks.refused = 0;
        } else if (!ks.bucket || ks.bucket.isFull()) {
          state.keys.delete(key);
        }
      }
    }
    return out;
  }

  private refusal(state: PolicyState, key: KeyState): ThrottledError | undefined {
    const { policy } = state;
    if (key.bucket && !key.bucket.canTake()) {
      // At least 1 ms: msUntilAvailable refills again, and the microseconds since canTake() can
      // bring the bucket to a whole token; a refusal must still say to wait.
      const retryAfterMs = key.bucket.msUntilAvailable();
      return throttled(
        policy,
        "rate",
        policy.limit?.ratePerSecond ?? 0,
        Number.isFinite(retryAfterMs) ? Math.max(1, retryAfterMs) : 1000,
      );
    }
    if (key.share.maxConcurrency > 0 || (policy.limit?.maxConcurrency ?? 0) > 0) {
      if (key.inFlight >= key.share.maxConcurrency) {
        return throttled(
          policy,
          "concurrency",
          policy.limit?.maxConcurrency ?? 0,
          CONCURRENCY_RETRY_AFTER_MS,
        );
      }
    }
    return undefined;
  }

  private keyState(state: PolicyState, key: string): KeyState {
    let ks = state.keys.get(key);
    if (ks) return ks;
    if (state.keys.size >= MAX_KEYS_PER_POLICY) return this.keyState(state, OVERFLOW_KEY);
    const share = state.keyShares.get(key) ?? state.defaultShare;
    ks = {
      totals: this.countersOf(state.policy.name),
      share,
      bucket: bucketFor(share, this.now),
      inFlight: 0,
      allowed: 0,
      refused: 0,
    };
    state.keys.set(key, ks);
    return ks;
  }

  private countersOf(policy: string): PolicyCounters {
    let counters = this.totals.get(policy);
    if (!counters) {
      counters = { allowed: 0, refused: 0 };
      this.totals.set(policy, counters);
    }
    return counters;
  }

  private stateFor(entry: PolicyShare__Output, previous: Map<string, PolicyState>): PolicyState | undefined {
    try {
      const policy = validatePolicy(entry.policy);
      const defaultShare = validateLimit(entry.defaultShare, "default_share");
      const keyShares = new Map<string, PolicyLimit>();
      for (const k of entry.keys ?? [])
        keyShares.set(String(k.key), validateLimit(k.share, `keys[${k.key}].share`));
      const old = previous.get(policy.name);
      const keys = old && sameLimitKind(old.policy, policy) ? old.keys : new Map<string, KeyState>();
      for (const [key, ks] of keys) {
        ks.share = keyShares.get(key) ?? defaultShare;
        if (ks.bucket && ks.share.ratePerSecond > 0)
          ks.bucket.reshape(ks.share.ratePerSecond, burstOf(ks.share));
        else ks.bucket = bucketFor(ks.share, this.now);
      }
      if (
        policy.keyBy === "KEY_BY_FUNCTION" &&
        !this.keyFunctions.has(policy.keyFunction) &&
        !this.missingFunctions.has(policy.keyFunction)
      ) {
        this.missingFunctions.add(policy.keyFunction);
        this.logger?.error(
          'throttling: a policy names a key function this process did not register; its turns share the key ""',
          { policy: policy.name, keyFunction: policy.keyFunction },
        );
      }
      return { policy, match: compileMatch(policy, this.keyFunctions), defaultShare, keyShares, keys };
    } catch (err) {
      if (!(err instanceof InvalidPolicyError)) throw err;
      this.logger?.error("throttling: skipped an invalid policy share from the control plane", {
        policy: entry.policy?.name,
        err,
      });
      return undefined;
    }
  }
}

function sameLimitKind(a: Policy, b: Policy): boolean {
  return a.keyBy === b.keyBy;
}

function burstOf(share: PolicyLimit): number {
  return Math.max(1, share.burst);
}

function bucketFor(share: PolicyLimit, now: () => number): TokenBucket | undefined {
  return share.ratePerSecond > 0 ? new TokenBucket(share.ratePerSecond, burstOf(share), now) : undefined;
}

function throttled(
  policy: Policy,
  scope: "rate" | "concurrency",
  limit: number,
  retryAfterMs: number,
): ThrottledError {
  return new ThrottledError(
    `throttled by policy "${policy.name}" (${scope} limit ${limit}${scope === "rate" ? "/s" : " at once"}); retry after ${retryAfterMs} ms`,
    { details: { policy: policy.name, scope, limit, remaining: 0, retryAfterMs } },
  );
}
