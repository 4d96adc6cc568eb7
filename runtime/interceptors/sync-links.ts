/**
 * Synchronous links: the fast form of a chain whose links only look at a hop or decide whether it
 * may go on. The built-ins (tracing, metrics) carry `observe`, a `begin`/`end` pair that means what
 * their interceptor form means; admission checks carry `admit` (admission.ts). When every link of a
 * chain that has work now is one of these, the hop runs without the chain's promises and closures:
 *
 * | the chain                                   | synchronous links                               |
 * | ------------------------------------------- | ----------------------------------------------- |
 * | a link runs before the rest of the chain    | `begin` / `admit` in the chain's order           |
 * | a link refuses (throws or rejects)          | `admit` throws; what began so far is ended with  |
 * |                                             | the refusal, innermost first, and it is thrown   |
 * | each link sees the outcome, innermost first | `end` / `release` innermost first, when it is   |
 * |                                             | settled                                          |
 *
 * What an observer does not get in this form is the rest of the chain running inside its context
 * (tracing's span): nothing runs there but the hop itself, which takes the span from the message's
 * headers (outbound) or from the turn's scope (inbound). A chain with a user interceptor in it
 * runs as a chain, built-ins included, so that interceptor sees the span as the active one.
 */
import { interceptorFailure } from "./failure.js";

/**
 * @internal What a built-in does around a hop, synchronously. `begin` may write the outbound
 * context's headers or set an inbound context's `scope`, and returns what `end` gets, or undefined
 * when there is nothing to end (an unsampled hop: its `end` is not called, and the hop settles
 * with no promise of the links'); neither may throw (what they throw is a failure of the hop, as
 * from the interceptor form).
 */
export interface Observer<C> {
  begin(ctx: C): unknown;
  end(token: unknown, error: unknown, failed: boolean): void;
}

/** A link that decides synchronously (see admission.ts `InboundAdmit`). */
type Admit<C> = (ctx: C) => (() => void) | undefined;

interface MaybeSynchronous<C> {
  readonly admit?: Admit<C>;
  readonly observe?: Observer<C>;
  readonly idle?: () => boolean;
}

/** {@link synchronousNow}: the chain has a link that is neither of the two forms nor idle. */
export const NOT_SYNCHRONOUS = 0;
/** {@link synchronousNow}: only admission checks have work (no observer is active). */
export const CHECKS_ONLY = 1;
/** {@link synchronousNow}: an observer is active (tracing: the hop needs its delivery details). */
export const OBSERVED = 2;

/**
 * Whether `chain` may run as synchronous links for this hop, and whether an observer is active.
 * Callers check `chainIdle` first (a chain with nothing to do at all is skipped outright).
 */
export function synchronousNow(chain: readonly unknown[]): number {
  let observed = false;
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i] as MaybeSynchronous<unknown>;
    if (typeof link.admit === "function") continue;
    if (link.idle?.() === true) continue;
    if (link.observe === undefined) return NOT_SYNCHRONOUS;
    observed = true;
  }
  return observed ? OBSERVED : CHECKS_ONLY;
}

/** Whether `chain` could ever run as synchronous links: every link carries `admit` or `observe`. */
export function maySynchronous(chain: readonly unknown[]): boolean {
  for (const link of chain as readonly MaybeSynchronous<unknown>[]) {
    if (typeof link.admit !== "function" && link.observe === undefined) return false;
  }
  return true;
}

/**
 * What the synchronous links of one hop took: observers to end and releases to call, ended
 * innermost first by {@link Taken.finish}. The first (most often the only one: tracing, or one
 * check's release) is kept in two fields, more in pairs (observer or undefined, token or release)
 * in an array made only for them.
 */
export class Taken {
  private readonly observer: Observer<unknown> | undefined;
  private readonly token: unknown;
  private more: unknown[] | undefined = undefined;

  constructor(observer: Observer<unknown> | undefined, tokenOrRelease: unknown) {
    this.observer = observer;
    this.token = tokenOrRelease;
  }

  add(observer: Observer<unknown> | undefined, tokenOrRelease: unknown): void {
    if (this.more) this.more.push(observer, tokenOrRelease);
    else this.more = [observer, tokenOrRelease];
  }

  /** Ends the observers and calls the releases, innermost first; what they throw is ignored. */
  finish(error: unknown, failed: boolean): void {
    const more = this.more;
    if (more) {
      for (let j = more.length - 2; j >= 0; j -= 2) {
        finishOne(more[j] as Observer<unknown> | undefined, more[j + 1], error, failed);
      }
    }
    finishOne(this.observer, this.token, error, failed);
  }
}

function finishOne(
  observer: Observer<unknown> | undefined,
  tokenOrRelease: unknown,
  error: unknown,
  failed: boolean,
): void {
  try {
    if (observer) observer.end(tokenOrRelease, error, failed);
    else (tokenOrRelease as () => void)();
  } catch {
    // An observer's end or a release must not throw (see Observer, InboundAdmit): the hop's
    // outcome stands.
  }
}

/**
 * Runs the synchronous links of `chain` on `ctx` in order (idle ones passed over): begins the
 * observers, runs the admission checks. Returns what to finish when the hop settles (undefined:
 * nothing was taken), or throws what refused the hop as the chain would (a `TroupeError` as is,
 * anything else as `InterceptorError`), after ending what began before it.
 */
export function beginLinks<C>(chain: readonly unknown[], ctx: C): Taken | undefined {
  let taken: Taken | undefined;
  for (let index = 0; index < chain.length; index++) {
    const link = chain[index] as MaybeSynchronous<C>;
    try {
      if (typeof link.admit === "function") {
        const release = link.admit(ctx);
        if (release) {
          if (taken) taken.add(undefined, release);
          else taken = new Taken(undefined, release);
        }
      } else if (link.idle?.() !== true && link.observe) {
        const observer = link.observe;
        const token = observer.begin(ctx);
        if (token === undefined) continue;
        if (taken) taken.add(observer as Observer<unknown>, token);
        else taken = new Taken(observer as Observer<unknown>, token);
      }
    } catch (err) {
      const failure = interceptorFailure(err, link as { name: string }, index);
      taken?.finish(failure, true);
      throw failure;
    }
  }
  return taken;
}

/**
 * Runs the hop and settles it through `taken`: its observers see the outcome and its releases run
 * before the hop's own settlement goes on (as the chain's links would see it); a hop that throws
 * instead of rejecting is a failure like any other.
 */
export function runTaken(taken: Taken | undefined, hop: () => Promise<unknown>): Promise<unknown> {
  let out: Promise<unknown>;
  try {
    out = hop();
  } catch (err) {
    taken?.finish(err, true);
    return Promise.reject(err);
  }
  if (!taken) return out;
  return out.then(
    (value) => {
      taken.finish(undefined, false);
      return value;
    },
    (err: unknown) => {
      taken.finish(err, true);
      throw err;
    },
  );
}
