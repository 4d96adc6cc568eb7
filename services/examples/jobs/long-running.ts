/**
 * Long-running work: enqueue a slow report, keep only its job id, read the result later from
 * another connection (as a restarted caller would).
 *
 *   node --conditions=troupe-source --import tsx services/examples/jobs/long-running.ts
 */
import { Actor } from "troupe";
import { enqueue, jobHandle, startJobRunner } from "../../../runtime/jobs/index.js";
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
  const host = await mesh.host([Report], { jobs: false });
  const runner = await startJobRunner(mesh, [Report], { capacity: 2 });
  try {
    const job = await enqueue(mesh, Report, "acme", { timeoutMs: 60 * 60_000 }).build(3);
    log(`stored job ${job.id}`);
    // Anyone with the id can wait for the result, e.g. after a restart:
    const report = await jobHandle<{ revenue: number }>(mesh, job.id).result({ timeoutMs: 30_000 });
    log(`report ready: revenue ${report.revenue}`);
  } finally {
    await runner.stop();
    await host.drain();
  }
};

await runIfMain(import.meta.url, longRunning);
