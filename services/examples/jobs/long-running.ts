/**
 * Long-running work: enqueue a slow report, keep only its job id, read the result later from
 * another connection (as a restarted caller would).
 *
 *   node --conditions=troupe-source --import tsx services/examples/jobs/long-running.ts
 */
import { Actor } from "troupe";
import { type Example, runIfMain } from "./setup.js";

export class Report extends Actor<{ built: number }> {
  static initialState = () => ({ built: 0 });

  /** Takes a while; a job may take hours: its runner keeps it alive with in-progress acks. */
  async build(quarter: number): Promise<{ quarter: number; revenue: number; version: number }> {
    await new Promise((r) => setTimeout(r, 300));
    this.state.built++;
    return { quarter, revenue: 1000 * quarter, version: this.state.built };
  }
}

export const longRunning: Example = async (mesh, log) => {
  const host = await mesh.host([Report], { jobs: { capacity: 2 } });
  try {
    const job = await mesh.enqueue(Report, "acme", { timeoutMs: 60 * 60_000 }).build(3);
    log(`stored job ${job.id}`);
    // Anyone with the id can wait for the result, e.g. after a restart:
    const report = await mesh.job<{ revenue: number }>(job.id).result({ timeoutMs: 30_000 });
    log(`report ready: revenue ${report.revenue}`);
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, longRunning);
