/**
 * The inbound chain around a turn that a runner of this host starts (a job, an event, a
 * reminder): the same interceptors as the host's calls and tells, with the message's headers and
 * caller. Skipped entirely when the chain is idle (empty, or only idle built-ins); when every
 * link that has work has a synchronous form (an admission check, a built-in: sync-links.ts), those
 * run and the turn starts without the chain's promises.
 */
import { callerOf } from "../messaging/index.js";
import type { MessageHeaders } from "../transport/index.js";
import { AdmissionScratch } from "./admission.js";
import { chainIdle, runChain } from "./chain.js";
import { readonlyHeaders } from "./headers.js";
import type {
  InboundContext,
  InboundDelivery,
  InboundInterceptor,
  InboundKind,
  TurnScope,
} from "./interceptor.js";
import { beginLinks, NOT_SYNCHRONOUS, OBSERVED, runTaken, synchronousNow, type Taken } from "./sync-links.js";

export interface InboundTurnInfo {
  readonly kind: InboundKind;
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly headers: MessageHeaders | undefined;
  /** The turn's budget from now, in ms. */
  readonly timeoutMs: number;
  /** The attested NATS user (see `InboundContext.user`), if the host derived one. */
  readonly user?: string | undefined;
  /** Where the message came from (for the built-in tracing interceptor). */
  readonly delivery?: InboundDelivery;
}

/**
 * Runs `turn` through `chain`; `turn` gets the scope an interceptor set for the handler (the
 * turn's span), if any. A message naming an unfit caller is refused with `MalformedMessageError`
 * before any interceptor runs.
 */
export function interceptTurn(
  chain: readonly InboundInterceptor[],
  info: InboundTurnInfo,
  turn: (scope: TurnScope | undefined) => Promise<unknown>,
): Promise<unknown> {
  if (chainIdle(chain)) return turn(undefined);
  const synchronous = synchronousNow(chain);
  if (synchronous !== NOT_SYNCHRONOUS) return runSynchronously(chain, info, turn, synchronous === OBSERVED);
  let caller: string | undefined;
  try {
    caller = callerOf(info.headers);
  } catch (err) {
    return Promise.reject(err);
  }
  const ctx: InboundContext = {
    kind: info.kind,
    actorType: info.actorType,
    actorId: info.actorId,
    method: info.method,
    headers: readonlyHeaders(info.headers),
    deadline: performance.now() + info.timeoutMs,
    caller,
    user: info.user,
    delivery: info.delivery,
    scope: undefined,
  };
  return runChain(chain, ctx, () => turn(ctx.scope));
}

function runSynchronously(
  chain: readonly InboundInterceptor[],
  info: InboundTurnInfo,
  turn: (scope: TurnScope | undefined) => Promise<unknown>,
  observed: boolean,
): Promise<unknown> {
  let taken: Taken | undefined;
  let scope: TurnScope | undefined;
  try {
    const scratch = new AdmissionScratch().fill(
      info.kind,
      info.actorType,
      info.actorId,
      info.method,
      info.headers,
      info.user,
    );
    if (observed) scratch.observed(performance.now() + info.timeoutMs, info.delivery);
    taken = beginLinks(chain, scratch);
    scope = scratch.scope;
    scratch.clear();
  } catch (err) {
    return Promise.reject(err);
  }
  // In the scope's context (the turn's span) as the chain would run it: what the turn does (a
  // runner's delivery of a job as a call) is a child of it.
  const inScope = scope;
  return runTaken(taken, () => (inScope ? inScope.call(turn, undefined, inScope) : turn(undefined)));
}
