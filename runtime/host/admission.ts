/**
 * The inbound fast path for calls and tells: when every inbound interceptor of the host carries a
 * synchronous `admit` (the throttling enforcer's does; see interceptors/admission.ts), the checks
 * run in order on one reused view of the turn and the turn is queued directly, or settled with
 * the refusal. No context object, promise or closure per turn; a check that took something (a
 * concurrency slot) gets its `release` called when the turn settles, before the reply is sent,
 * as the chain's `finally` would.
 */
import type { Catalog, Turn, TurnOutcome } from "../actor/index.js";
import {
  AdmissionScratch,
  admitsAll,
  admitTurn,
  type InboundInterceptor,
  type InboundKind,
  mayAdmitAll,
  releaseQuietly,
  type TurnScope,
} from "../interceptors/index.js";
import type { MessageHeaders } from "../transport/index.js";
import type { InboundTurn } from "./replies.js";

export class Admission {
  private readonly scratch = new AdmissionScratch();
  private busy = false;

  /**
   * The fast path for `chain`, or undefined unless every interceptor of it carries `admit` or is a
   * built-in that may be idle; {@link applies} says whether it can be taken for a turn.
   */
  static of(chain: readonly InboundInterceptor[]): Admission | undefined {
    return mayAdmitAll(chain) ? new Admission(chain) : undefined;
  }

  /** Whether the checks alone stand for the chain now (its other links are idle built-ins). */
  applies(): boolean {
    return admitsAll(this.chain);
  }

  private constructor(private readonly chain: readonly InboundInterceptor[]) {}

  /** Queues `turn` on its actor when every check admits it; otherwise settles it with the refusal. */
  dispatch(
    kind: InboundKind,
    actorType: string,
    catalog: Catalog,
    actorId: string,
    headers: MessageHeaders | undefined,
    turn: InboundTurn,
    now: number,
    user?: string,
  ): void {
    // A check that somehow dispatches another turn while it runs gets a view of its own.
    const own = !this.busy;
    const scratch = own ? this.scratch : new AdmissionScratch();
    let release: (() => void) | undefined;
    this.busy = true;
    try {
      release = admitTurn(this.chain, scratch.fill(kind, actorType, actorId, turn.method, headers, user));
    } catch (error) {
      turn.settle({ ok: false, error });
      return;
    } finally {
      scratch.clear();
      if (own) this.busy = false;
    }
    catalog.dispatch(actorId, release ? new ReleasingTurn(turn, release) : turn, { now });
  }
}

/** A turn that calls `release` when it settles, then settles the host's turn with the same outcome. */
class ReleasingTurn implements Turn {
  readonly method: string;
  readonly args: unknown[];
  readonly deadline: number;
  /** None: the fast path is taken only while tracing is idle. */
  readonly scope: TurnScope | undefined = undefined;

  constructor(
    private readonly turn: InboundTurn,
    private readonly release: () => void,
  ) {
    this.method = turn.method;
    this.args = turn.args;
    this.deadline = turn.deadline;
  }

  settle(outcome: TurnOutcome): void {
    releaseQuietly(this.release);
    this.turn.settle(outcome);
  }
}
