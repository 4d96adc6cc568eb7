/**
 * The job runner of a host: for each actor type it serves, it pulls jobs from the type's durable
 * pull consumer, never holding more than the type's `capacity` (load leveling: the queue absorbs
 * bursts, nothing is refused as "too busy"), and runs each job as a turn of its actor through the
 * mesh's request-reply path, so the turn runs in the actor's mailbox on whichever host owns it.
 *
 * Per job: in-progress acks every `ackWaitMs / 3` while the turn runs (a job may take hours; if
 * this process dies the acks stop and JetStream redelivers it after `ackWaitMs`); on success the
 * result is stored in the results stream, then the job is acked; on failure the error's type
 * decides (see resilience/classify.ts): retry after a full-jitter backoff (Nak with delay) within
 * `maxAttempts`, `maxElapsedMs` and the retry budget, or dead-letter it.
 *
 * @example
 * ```ts
 * const runner = await startJobRunner(mesh, [Cart, Report], { capacity: { Report: 2 }, maxAttempts: 8 });
 * await runner.stop();   // on drain: stop pulling, let running jobs finish
 * ```
 */
import os from "node:os";
import type { ActorClass } from "../actor/actor-ref.js";
import { typeNameOf } from "../actor/actor-type.js";
import { ConfigurationError, type TroupeError, toWireError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { DEFAULT_MAX_DELAY_MS, fullJitterDelayMs } from "../resilience/backoff.js";
import { CircuitOpenError, type Resilience, resilienceOf } from "../resilience/breakers.js";
import { retryDecision } from "../resilience/classify.js";
import { endHop, runInHop, startJobSpan } from "../telemetry/index.js";
import {
  type JetStreamQueues,
  jetStreamQueues,
  type PullBatch,
  type QueueMessage,
} from "../transport/jetstream-queue.js";
import {
  type DeadLetterReason,
  decodeJob,
  encodeDeadLetter,
  encodeOutcome,
  type JobEnvelope,
} from "./envelope.js";
import { type JobNames, RUNNER_CONSUMER } from "./names.js";
import {
  ensureDlqStream,
  ensureJobStream,
  ensureResultsStream,
  type JobQueueOptions,
  namesOf,
} from "./streams.js";

export const DEFAULT_CAPACITY = 16;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;

export interface JobRunnerOptions {
  /** Jobs of a type this process holds at once: one number for every type, or per type name. Default 16. */
  capacity?: number | Record<string, number>;
  /** Attempts of a job that does not set its own (first included). Default 5. */
  maxAttempts?: number;
  /** A job is dead-lettered instead of retried once this long has passed since it was stored. Default 24 h. */
  maxElapsedMs?: number;
  /** Upper bound of the first retry's delay (full jitter, doubling per attempt). Default 1 s. */
  initialDelayMs?: number;
  /** Cap of a retry's delay, and the delay used when the retry budget is spent. Default 30 s. */
  maxDelayMs?: number;
  /**
   * Redelivery delay after a runner stops acking (its process died). The consumer's setting: the
   * last runner to start sets it for everyone. Default 30 s.
   */
  ackWaitMs?: number;
  /** Jobs of a type awaiting their ack, over all runners (the server stops delivering beyond). Default 10 000. */
  maxAckPending?: number;
  /** How long one pull waits for jobs (min 1 s). Default 5 s. */
  pullExpiresMs?: number;
  /** How long `stop()` waits for running jobs before handing them back (Nak) for redelivery. Default 30 s. */
  drainTimeoutMs?: number;
  /** Name recorded in dead letters. Default `<hostname>-<pid>`. */
  hostName?: string;
  /** Stream settings used if this runner creates the streams. */
  queue?: JobQueueOptions;
  /** Observes every attempt and its outcome (tests, metrics). Must not throw. */
  onEvent?: (event: JobEvent) => void;
}

export type JobEvent =
  | { kind: "started"; type: string; jobId: string; attempt: number; atMs: number }
  | { kind: "succeeded"; type: string; jobId: string; attempt: number; atMs: number }
  | {
      kind: "retry";
      type: string;
      jobId: string;
      attempt: number;
      atMs: number;
      delayMs: number;
      error: TroupeError | Error;
    }
  | {
      kind: "dead-lettered";
      type: string;
      jobId: string | undefined;
      attempt: number;
      atMs: number;
      reason: DeadLetterReason;
      error: unknown;
    };

export interface RunnerTypeStats {
  readonly capacity: number;
  /** Jobs held now (received, not yet settled). */
  readonly held: number;
  /** Most jobs ever held at once. Never above `capacity`. */
  readonly maxHeld: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly deadLettered: number;
}

interface Settings {
  maxAttempts: number;
  maxElapsedMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  ackWaitMs: number;
  pullExpiresMs: number;
  hostName: string;
  onEvent: ((event: JobEvent) => void) | undefined;
}

export class JobRunner {
  private readonly loops: TypeLoop[];

  /** @internal Use {@link startJobRunner}. */
  constructor(
    loops: TypeLoop[],
    private readonly drainTimeoutMs: number,
  ) {
    this.loops = loops;
  }

  stats(type: string): RunnerTypeStats | undefined {
    return this.loops.find((l) => l.type === type)?.stats();
  }

  /**
   * Stops pulling, waits up to `drainTimeoutMs` for running jobs, then hands the rest back for
   * redelivery. Idempotent.
   */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop(this.drainTimeoutMs)));
  }
}

/** Starts pulling and running the jobs of `types` in this process. */
export async function startJobRunner(
  mesh: Mesh,
  types: ActorClass[],
  options: JobRunnerOptions = {},
): Promise<JobRunner> {
  const settings: Settings = {
    maxAttempts: positiveInt("maxAttempts", options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    maxElapsedMs: options.maxElapsedMs ?? 24 * 3600_000,
    initialDelayMs: options.initialDelayMs ?? 1000,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    pullExpiresMs: Math.max(1000, options.pullExpiresMs ?? 5000),
    hostName: options.hostName ?? `${os.hostname()}-${process.pid}`,
    onEvent: options.onEvent,
  };
  const names = namesOf(mesh);
  const q = jetStreamQueues(mesh.transport);
  await Promise.all([ensureResultsStream(mesh, options.queue), ensureDlqStream(mesh, options.queue)]);
  const loops: TypeLoop[] = [];
  for (const cls of types) {
    const type = typeNameOf(cls);
    const capacity = positiveInt(
      `capacity of ${type}`,
      typeof options.capacity === "number"
        ? options.capacity
        : (options.capacity?.[type] ?? DEFAULT_CAPACITY),
    );
    await ensureJobStream(mesh, type, options.queue);
    await q.ensurePullConsumer({
      stream: names.jobsStream(type),
      durable: RUNNER_CONSUMER,
      filterSubject: names.jobsFilter(type),
      ackWaitMs: settings.ackWaitMs,
      maxAckPending: options.maxAckPending ?? 10_000,
    });
    loops.push(new TypeLoop(mesh, cls, type, capacity, settings, names, q, resilienceOf(mesh)));
  }
  for (const l of loops) l.start();
  return new JobRunner(loops, options.drainTimeoutMs ?? 30_000);
}

function positiveInt(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigurationError(`${what} must be a positive integer, got ${n}`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pull loop and the jobs in flight of one actor type. */
class TypeLoop {
  private held = 0;
  private maxHeld = 0;
  private succeeded = 0;
  private retried = 0;
  private deadLettered = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private batch: PullBatch | undefined;
  private slotFreed: (() => void) | undefined;
  private readonly inFlight = new Map<QueueMessage, Promise<void>>();
  /** Set on a stop that timed out: running jobs hand their message back instead of settling it. */
  private abandoned = false;
  private readonly logger: Logger;
  private readonly stream: string;

  constructor(
    private readonly mesh: Mesh,
    private readonly cls: ActorClass,
    readonly type: string,
    private readonly capacity: number,
    private readonly s: Settings,
    private readonly names: JobNames,
    private readonly q: JetStreamQueues,
    private readonly resilience: Resilience,
  ) {
    this.logger = mesh.logger;
    this.stream = names.jobsStream(type);
  }

  stats(): RunnerTypeStats {
    return {
      capacity: this.capacity,
      held: this.held,
      maxHeld: this.maxHeld,
      succeeded: this.succeeded,
      retried: this.retried,
      deadLettered: this.deadLettered,
    };
  }

  start(): void {
    this.running = true;
    this.loop = this.pullLoop();
  }

  async stop(drainTimeoutMs: number): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.batch?.stop();
    this.slotFreed?.();
    await this.loop;
    const all = Promise.all(this.inFlight.values());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.abandoned = true;
      this.logger.warn("job runner stopped with jobs still running: handed back for redelivery", {
        actorType: this.type,
        jobs: this.inFlight.size,
      });
      for (const m of this.inFlight.keys()) m.nak(0);
    }
  }

  private async pullLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.capacity - this.held;
      if (free <= 0) {
        await new Promise<void>((r) => {
          this.slotFreed = r;
        });
        this.slotFreed = undefined;
        continue;
      }
      if (this.resilience.isOpen(this.type)) {
        // The type's circuit is open: leave its jobs in the queue until it half-opens.
        await sleep(250);
        continue;
      }
      try {
        this.batch = await this.q.pull(this.stream, RUNNER_CONSUMER, free, this.s.pullExpiresMs);
        for await (const m of this.batch) {
          this.held++;
          if (this.held > this.maxHeld) this.maxHeld = this.held;
          const p = this.handle(m).finally(() => {
            this.inFlight.delete(m);
            this.held--;
            this.slotFreed?.();
          });
          this.inFlight.set(m, p);
        }
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.logger.warn("pulling jobs failed; retrying", { actorType: this.type, err, failures });
        await sleep(fullJitterDelayMs(failures, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
      } finally {
        this.batch = undefined;
      }
    }
  }

  private emit(event: JobEvent): void {
    try {
      this.s.onEvent?.(event);
    } catch (err) {
      this.logger.warn("job event observer threw", { err });
    }
  }

  /** Runs one delivery of a job and settles its message (ack, nak with delay, or dead-letter + ack). */
  private async handle(m: QueueMessage): Promise<void> {
    const attempt = m.deliveryCount;
    let job: JobEnvelope;
    try {
      job = decodeJob(m.data);
    } catch (err) {
      await this.deadLetter(m, undefined, attempt, "malformed", err);
      return;
    }
    const maxAttempts = job.maxAttempts || this.s.maxAttempts;
    if (attempt > maxAttempts) {
      // The previous attempt's runner stopped acking (its process died) on the last attempt.
      const err = new Error(
        `attempt ${attempt - 1} of ${maxAttempts} ended without an outcome (its runner stopped acking)`,
      );
      await this.deadLetter(m, job, attempt - 1, "attempts-exhausted", err);
      return;
    }
    if (Date.now() - m.storedAtMs > this.s.maxElapsedMs) {
      const err = new Error(`more than ${this.s.maxElapsedMs} ms since the job was stored`);
      await this.deadLetter(m, job, attempt - 1, "expired", err);
      return;
    }
    const heartbeat = setInterval(() => m.working(), Math.max(100, Math.floor(this.s.ackWaitMs / 3)));
    try {
      if (attempt === 1) this.resilience.budget(this.type).recordAttempt();
      this.emit({ kind: "started", type: this.type, jobId: job.jobId, attempt, atMs: Date.now() });
      let value: unknown;
      try {
        value = await this.attempt(m, job, attempt);
      } catch (err) {
        if (this.abandoned) return;
        await this.failed(m, job, attempt, maxAttempts, err);
        return;
      }
      if (this.abandoned) return;
      await this.succeededWith(m, job, attempt, value);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** One attempt: waits while the type's circuit is open (not counted as an attempt), then calls. */
  private async attempt(m: QueueMessage, job: JobEnvelope, attempt: number): Promise<unknown> {
    const ref = this.mesh.ref(this.cls, job.actorId, { timeoutMs: job.timeoutMs }) as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    for (;;) {
      const hop = startJobSpan(
        m.headers,
        this.names.queueName(this.type),
        m.subject,
        RUNNER_CONSUMER,
        attempt,
        job.jobId,
      );
      try {
        const value = await this.resilience.execute(this.type, () =>
          runInHop(hop, () => (ref[job.method] as (...a: unknown[]) => Promise<unknown>)(...job.args)),
        );
        endHop(hop);
        return value;
      } catch (err) {
        endHop(hop, err);
        if (!(err instanceof CircuitOpenError) || !this.running) throw err;
      }
      await sleep(250 + Math.random() * 250);
    }
  }

  private async succeededWith(
    m: QueueMessage,
    job: JobEnvelope,
    attempt: number,
    value: unknown,
  ): Promise<void> {
    // Store the result before acking: if this process dies in between, the job runs again
    // (at-least-once) instead of finishing without a result.
    const stored = await this.publishResult(
      job.jobId,
      encodeOutcome({ ok: true, value, attempts: attempt, finishedAtMs: Date.now() }),
    );
    if (!stored) {
      const delayMs = fullJitterDelayMs(attempt, this.backoff());
      this.logger.error("job result could not be stored; the job will run again", {
        actorType: this.type,
        jobId: job.jobId,
      });
      m.nak(delayMs);
      return;
    }
    await m.ack();
    this.succeeded++;
    this.emit({ kind: "succeeded", type: this.type, jobId: job.jobId, attempt, atMs: Date.now() });
  }

  private async failed(
    m: QueueMessage,
    job: JobEnvelope,
    attempt: number,
    maxAttempts: number,
    err: unknown,
  ): Promise<void> {
    if (retryDecision(err, "retry") === "terminal") {
      await this.deadLetter(m, job, attempt, "terminal", err);
      return;
    }
    if (attempt >= maxAttempts) {
      await this.deadLetter(m, job, attempt, "attempts-exhausted", err);
      return;
    }
    // Within the retry budget, the usual backoff; beyond it, the longest delay: the job still
    // runs again, but a failing dependency sees a trickle instead of a storm.
    const delayMs = this.resilience.budget(this.type).tryRetry()
      ? fullJitterDelayMs(attempt, this.backoff())
      : this.s.maxDelayMs;
    if (Date.now() + delayMs - m.storedAtMs > this.s.maxElapsedMs) {
      await this.deadLetter(m, job, attempt, "expired", err);
      return;
    }
    this.logger.debug("job attempt failed; retrying", {
      actorType: this.type,
      jobId: job.jobId,
      attempt,
      delayMs,
      err,
    });
    m.nak(delayMs);
    this.retried++;
    this.emit({
      kind: "retry",
      type: this.type,
      jobId: job.jobId,
      attempt,
      atMs: Date.now(),
      delayMs,
      error: err as Error,
    });
  }

  private backoff() {
    return { initialDelayMs: this.s.initialDelayMs, maxDelayMs: this.s.maxDelayMs };
  }

  /** Result writes are retried a few times in place: they are cheap and the turn already ran. */
  private async publishResult(jobId: string, data: Uint8Array): Promise<boolean> {
    for (let i = 1; ; i++) {
      try {
        await this.q.publish(this.names.resultSubject(jobId), data);
        return true;
      } catch (err) {
        if (i >= 5) {
          this.logger.warn("storing a job result failed", { jobId, err });
          return false;
        }
        await sleep(fullJitterDelayMs(i, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
      }
    }
  }

  /**
   * Moves the job to the DLQ (with its error, attempts, times, original headers and bytes), stores
   * a dead-lettered result for `job.result()`, then acks the original. If the DLQ write fails, the
   * job is handed back and dead-lettered again on its next delivery.
   */
  private async deadLetter(
    m: QueueMessage,
    job: JobEnvelope | undefined,
    attempts: number,
    reason: DeadLetterReason,
    err: unknown,
  ): Promise<void> {
    const wire = toWireError(err);
    const headers: Record<string, string> = {};
    if (m.headers) for (const k of m.headers.keys()) headers[k] = m.headers.get(k);
    const record = encodeDeadLetter({
      v: 1,
      reason,
      jobId: job?.jobId,
      type: this.type,
      actorId: job?.actorId,
      method: job?.method,
      error: { ...wire, stack: err instanceof Error && !("code" in err) ? err.stack : undefined },
      attempts,
      enqueuedAtMs: m.storedAtMs,
      failedAtMs: Date.now(),
      host: this.s.hostName,
      originalSubject: m.subject,
      originalSeq: m.streamSeq,
      originalHeaders: headers,
      data: m.data,
    });
    try {
      await this.q.publish(this.names.dlqSubject(this.type), record, {
        msgId: `dlq-${this.stream}-${m.streamSeq}`,
      });
      if (job) {
        await this.q.publish(
          this.names.resultSubject(job.jobId),
          encodeOutcome({ ok: false, error: wire, attempts, finishedAtMs: Date.now() }),
        );
      }
    } catch (publishErr) {
      this.logger.error("dead-lettering a job failed; it will be retried", {
        actorType: this.type,
        jobId: job?.jobId,
        err: publishErr,
      });
      m.nak(this.s.initialDelayMs);
      return;
    }
    await m.ack();
    this.deadLettered++;
    this.logger.warn("job dead-lettered", {
      actorType: this.type,
      jobId: job?.jobId,
      reason,
      attempts,
      code: wire.code,
      error: wire.message,
    });
    this.emit({
      kind: "dead-lettered",
      type: this.type,
      jobId: job?.jobId,
      attempt: attempts,
      atMs: Date.now(),
      reason,
      error: err,
    });
  }
}
