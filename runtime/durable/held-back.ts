/**
 * A stored message (job or event) delivered through the host's inbound interceptors, where a
 * throttle may refuse it before its turn runs. Such a refusal is not a failed attempt: the queue is
 * the inbox, so the runner holds the message back (Nak with the error's `retryAfterMs`) instead of
 * counting it, retrying it or dead-lettering it. The delivery resolves with {@link HeldBack} then,
 * not rejects, so the circuit breaker around it does not count it as a failure either.
 */
import { ThrottledError } from "../errors.js";
import {
  chainIdle,
  type InboundInterceptor,
  type InboundTurnInfo,
  interceptTurn,
} from "../interceptors/index.js";

/** A delivery the inbound chain refused with ThrottledError before the turn ran. */
export class HeldBack extends Error {
  constructor(readonly throttled: ThrottledError) {
    super(throttled.message);
  }
}

/**
 * `deliver` run through `chain` (or `deliver` itself when the chain is idle: empty, or only idle
 * built-ins): resolves with `HeldBack` when the chain threw ThrottledError before calling it;
 * anything else as it came. `info` is built only when the chain runs.
 */
export function throughInbound(
  chain: readonly InboundInterceptor[],
  info: () => InboundTurnInfo,
  deliver: () => Promise<unknown>,
): () => Promise<unknown> {
  if (chainIdle(chain)) return deliver;
  return () => {
    let delivered = false;
    return interceptTurn(chain, info(), () => {
      delivered = true;
      return deliver();
    }).catch((err: unknown) => {
      if (err instanceof ThrottledError && !delivered) return new HeldBack(err);
      throw err;
    });
  };
}
