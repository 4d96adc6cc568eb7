/**
 * Retry: a payment provider that fails twice, then works. The job is retried with exponential
 * backoff and full jitter; a call is retried only when the caller opts in (`mesh.ref(type, id, { retry })`), and
 * only for retryable errors.
 *
 *   node --conditions=troupe-source --import tsx services/examples/jobs/retry.ts
 */
import { Actor, OverloadedError, TerminalError } from "troupe";
import { type Example, runIfMain } from "./setup.js";

const failures = new Map<string, number>();

export class Payment extends Actor<{ charged: boolean }> {
  static initialState = () => ({ charged: false });

  async charge(cents: number): Promise<string> {
    if (cents <= 0) throw new TerminalError(`cannot charge ${cents} cents`); // never retried
    const n = (failures.get(this.id) ?? 0) + 1;
    failures.set(this.id, n);
    if (n <= 2) throw new Error(`provider timeout (${n})`); // retried: jobs are at-least-once
    this.state.charged = true;
    return `charged ${cents} on attempt ${n}`;
  }

  /** Pretends to be overloaded once: a retryable error a call may retry. */
  async status(): Promise<string> {
    const n = (failures.get(`status-${this.id}`) ?? 0) + 1;
    failures.set(`status-${this.id}`, n);
    if (n === 1) throw new OverloadedError("try again");
    return this.state.charged ? "charged" : "open";
  }
}

export const retryExample: Example = async (mesh, log) => {
  const host = await mesh.host([Payment], { jobs: { maxAttempts: 5, initialDelayMs: 100 } });
  try {
    const job = await mesh.enqueue(Payment, "order-7").charge(1250);
    log(await job.result({ timeoutMs: 30_000 }).catch(String));
    const payment = mesh.ref(Payment, "order-7", { retry: { maxAttempts: 3, initialDelayMs: 50 } });
    log(`status: ${await payment.status()}`);
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, retryExample);
