/**
 * The inbound fast path for calls and tells: when every inbound interceptor of the host that has
 * work has a synchronous form (an admission check such as the throttling enforcer's, a built-in
 * such as tracing: see interceptors/sync-links.ts), those run in order on one reused view of the
 * turn and the turn is queued directly, or settled with the refusal. No promise or closure per
 * turn; what the links took (a concurrency slot, the turn's span) is released or ended when the
 * turn settles, before the reply is sent, as the chain's links would see it.
 */
import type { Catalog, Turn, TurnOutcome } from "../actor/index.js";
import {
  AdmissionScratch,
  beginLinks,
  type InboundDelivery,
  type InboundInterceptor,
  type InboundKind,
  maySynchronous,
  type NOT_SYNCHRONOUS,
  type OBSERVED,
  synchronousNow,
  type Taken,
  type TurnScope,
} from "../interceptors/index.js";
import type { MessageHeaders } from "../transport/index.js";
import type { InboundTurn } from "./replies.js";

export class Admission {
  private readonly scratch = new AdmissionScratch();
  private busy = false;

  /**
   * The fast path for `chain`, or undefined unless every interceptor of it has a synchronous form;
   * {@link applies} says whether it can be taken for a turn.
   */
  static of(chain: readonly InboundInterceptor[]): Admission | undefined {
    return chain.length > 0 && maySynchronous(chain) ? new Admission(chain) : undefined;
  }

  private constructor(private readonly chain: readonly InboundInterceptor[]) {}

  /**
   * Whether the synchronous links stand for the chain now: {@link NOT_SYNCHRONOUS}, or
   * {@link OBSERVED} when an observer is active (then {@link dispatch} needs the delivery).
   */
  applies(): number {
    return synchronousNow(this.chain);
  }

  /**
   * Queues `turn` on its actor when every link admits it; otherwise settles it with the refusal.
   * `delivery` is given when {@link applies} said {@link OBSERVED}.
   */
  dispatch(
    kind: InboundKind,
    actorType: string,
    catalog: Catalog,
    actorId: string,
    headers: MessageHeaders | undefined,
    turn: InboundTurn,
    now: number,
    delivery: InboundDelivery | undefined,
    user?: string,
  ): void {
    // A link that somehow dispatches another turn while it runs gets a view of its own.
    const own = !this.busy;
    const scratch = own ? this.scratch : new AdmissionScratch();
    let taken: Taken | undefined;
    let scope: TurnScope | undefined;
    this.busy = true;
    try {
      scratch.fill(kind, actorType, actorId, turn.method, headers, user);
      if (delivery) scratch.observed(turn.deadline, delivery);
      taken = beginLinks(this.chain, scratch);
      scope = scratch.scope;
    } catch (error) {
      turn.settle({ ok: false, error });
      return;
    } finally {
      scratch.clear();
      if (own) this.busy = false;
    }
    if (taken) {
      catalog.dispatch(actorId, new TakingTurn(turn, taken, scope), now);
      return;
    }
    // Nothing to finish (an unsampled turn): the turn itself carries the scope it runs in.
    turn.scope = scope;
    catalog.dispatch(actorId, turn, now);
  }
}

/**
 * A turn whose links took something: run in the scope an observer set (the turn's span), it
 * finishes what they took when it settles, then settles the host's turn with the same outcome.
 */
class TakingTurn implements Turn {
  readonly method: string;
  readonly args: unknown[];
  readonly deadline: number;

  constructor(
    private readonly turn: InboundTurn,
    private readonly taken: Taken,
    readonly scope: TurnScope | undefined,
  ) {
    this.method = turn.method;
    this.args = turn.args;
    this.deadline = turn.deadline;
  }

  settle(outcome: TurnOutcome): void {
    this.taken.finish(outcome.ok ? undefined : outcome.error, !outcome.ok);
    this.turn.settle(outcome);
  }
}
