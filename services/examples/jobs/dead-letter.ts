/**
 * Dead letters: a job whose handler keeps failing is retried `maxAttempts` times, then moved to the
 * DLQ with its error; after the fix it is replayed from the DLQ and succeeds. The same operations
 * exist on the command line: `troupe dlq ls|show|replay|purge`.
 *
 *   node --conditions=troupe-source --import tsx services/examples/jobs/dead-letter.ts
 */
import { Actor, deadLetters, JobDeadLetteredError, replayDeadLetter } from "troupe";
import { type Example, runIfMain } from "./setup.js";

const config = { exchangeRatesUp: false };

export class Invoice extends Actor {
  static options = { stateless: true };

  async issue(customer: string, amount: number): Promise<string> {
    if (!config.exchangeRatesUp) throw new Error("exchange-rate service unreachable");
    return `invoice for ${customer}: ${amount} EUR`;
  }
}

export const deadLetterExample: Example = async (mesh, log) => {
  const host = await mesh.host([Invoice], { jobs: { maxAttempts: 3, initialDelayMs: 100 } });
  try {
    const job = await mesh.enqueue(Invoice, "inv").issue("ada", 120);
    try {
      await job.result({ timeoutMs: 30_000 });
    } catch (err) {
      if (!(err instanceof JobDeadLetteredError)) throw err;
      log(`dead-lettered after ${err.attempts} attempts: ${err.remote.message}`);
    }
    config.exchangeRatesUp = true; // the fix
    for await (const entry of deadLetters(mesh, { type: "Invoice" })) {
      log(`replaying DLQ #${entry.seq} (${entry.reason}, ${entry.error.code})`);
      await replayDeadLetter(mesh, entry.seq);
    }
    log(await job.result({ timeoutMs: 30_000 }));
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, deadLetterExample);
