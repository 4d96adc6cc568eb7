/** Shared setup of the job tests: a real nats-server, a mesh hosting `Work`, and a job runner. */
import type { ExecutionContext } from "ava";
import type { Mesh } from "troupe";
import {
  type JobEvent,
  type JobRunner,
  type JobRunnerOptions,
  startJobRunner,
} from "../../runtime/jobs/index.js";
import { startMesh } from "../helpers/mesh.js";
import { Work } from "./fixtures/actors.js";

export interface JobsFixture {
  url: string;
  mesh: Mesh;
  runner: JobRunner;
  events: JobEvent[];
  connectAnother: (o?: { prefix?: string }) => Promise<Mesh>;
}

/** Fast retries for tests (never asserted on as durations). */
export const FAST_RETRY: JobRunnerOptions = { initialDelayMs: 100, maxDelayMs: 1000, ackWaitMs: 5000 };

export async function startJobs(t: ExecutionContext, options: JobRunnerOptions = {}): Promise<JobsFixture> {
  const fx = await startMesh(t);
  await fx.mesh.host([Work], { jobs: false });
  const events: JobEvent[] = [];
  const runner = await startJobRunner(fx.mesh, [Work], {
    ...FAST_RETRY,
    ...options,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  t.teardown(() => runner.stop());
  return { url: fx.url, mesh: fx.mesh, runner, events, connectAnother: fx.connectAnother };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
