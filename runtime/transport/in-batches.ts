/**
 * Runs async work with a bounded number in flight: enough to overlap round trips to the server,
 * few enough not to flood the connection (or crowd out a lease renewal waiting behind them).
 */

/** Runs every item of `work`, at most `inFlight` at once, in order of start; resolves when all have. */
export async function inBatches(work: readonly (() => Promise<void>)[], inFlight: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < work.length) await (work[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, work.length) }, worker));
}
