/**
 * The inbound chain around a turn that a runner of this host starts (a job, an event, a
 * reminder): the same interceptors as the host's calls and tells, with the message's headers and
 * caller. Skipped entirely when the chain is empty.
 */
import { callerOf } from "../messaging/index.js";
import type { MessageHeaders } from "../transport/index.js";
import { runChain } from "./chain.js";
import { readonlyHeaders } from "./headers.js";
import type { InboundInterceptor, InboundKind } from "./interceptor.js";

export interface InboundTurnInfo {
  readonly kind: InboundKind;
  readonly actorType: string;
  readonly actorId: string;
  readonly method: string;
  readonly headers: MessageHeaders | undefined;
  /** The turn's budget from now, in ms. */
  readonly timeoutMs: number;
}

/**
 * Runs `turn` through `chain`. A message naming an unfit caller is refused with
 * `MalformedMessageError` before any interceptor runs.
 */
export function interceptTurn(
  chain: readonly InboundInterceptor[],
  info: InboundTurnInfo,
  turn: () => Promise<unknown>,
): Promise<unknown> {
  if (chain.length === 0) return turn();
  let caller: string | undefined;
  try {
    caller = callerOf(info.headers);
  } catch (err) {
    return Promise.reject(err);
  }
  return runChain(
    chain,
    {
      kind: info.kind,
      actorType: info.actorType,
      actorId: info.actorId,
      method: info.method,
      headers: readonlyHeaders(info.headers),
      deadline: performance.now() + info.timeoutMs,
      caller,
    },
    turn,
  );
}
