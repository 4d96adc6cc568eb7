/**
 * A stored message (job or event) delivered through its actor type's circuit breaker. While the
 * circuit is open, the delivery is not refused as a failed attempt: the message is stored, so it
 * waits (a quarter to half a second between tries, not counted as attempts) and tries again, for as
 * long as `keepWaiting()` says (the runner still runs). The pull loop meanwhile takes no new
 * messages of that type (its `paused` option).
 *
 * @example
 * ```ts
 * const value = await throughOpenCircuit(resilience, "Cart", call, () => pull.isRunning);
 * ```
 */
import { CircuitOpenError, type Resilience } from "../resilience/index.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `call` run through the breaker of `type`: its value (a HeldBack too) or its error; a
 * CircuitOpenError only once `keepWaiting()` is false.
 */
export async function throughOpenCircuit(
  resilience: Resilience,
  type: string,
  call: () => Promise<unknown>,
  keepWaiting: () => boolean,
): Promise<unknown> {
  for (;;) {
    try {
      return await resilience.execute(type, call);
    } catch (err) {
      if (!(err instanceof CircuitOpenError) || !keepWaiting()) throw err;
    }
    await sleep(250 + Math.random() * 250);
  }
}
