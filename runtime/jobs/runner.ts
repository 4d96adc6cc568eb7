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
import type { ActorClass } from "../actor/index.js";
import { typeNameOf } from "../actor/index.js";
import {
  type DeadLetterReason,
  deadLetterOf,
  domainOf,
  HeldBack,
  type MeshConnection,
  originDomainOf,
  PullLoop,
  publishDeadLetter,
  redeliveryAfterFailedDeadLetter,
  type TurnDelivery,
  throughInbound,
  verdictAfterFailure,
  verdictBeforeAttempt,
} from "../durable/index.js";
import {
  ConfigurationError,
  MalformedMessageError,
  type ThrottledError,
  type TroupeError,
} from "../errors.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import {
  callerToForward,
  decodeJob,
  encodeOutcome,
  type JobEnvelope,
  type JobNames,
  RUNNER_CONSUMER,
} from "../messaging/index.js";
import {
  CircuitOpenError,
  DEFAULT_MAX_DELAY_MS,
  fullJitterDelayMs,
  type Resilience,
  resilienceOf,
} from "../resilience/index.js";
import {
  ATTR_TROUPE_QUEUE,
  METRIC_DLQ_SIZE,
  METRIC_JOBS_IN_FLIGHT,
  METRIC_JOBS_PENDING,
  metricsEnabled,
  observeGauge,
  recordJobRetry,
} from "../telemetry/index.js";
import {
  type JetStreamQueues,
  jetStreamQueues,
  malformedHeadersError,
  type QueueMessage,
} from "../transport/index.js";
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
  /** Deliveries the inbound chain refused with ThrottledError, handed back to run later. */
  readonly throttled: number;
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
  /** The host's inbound interceptors, around every attempt. */
  inbound: readonly InboundInterceptor[];
}

export class JobRunner {
  private readonly loops: TypeLoop[];
  private readonly metrics: RunnerMetrics | undefined;

  /** @internal Use {@link startJobRunner}. */
  constructor(
    loops: TypeLoop[],
    private readonly drainTimeoutMs: number,
    mesh: MeshConnection,
  ) {
    this.loops = loops;
    this.metrics = metricsEnabled() ? new RunnerMetrics(mesh, loops) : undefined;
  }

  stats(type: string): RunnerTypeStats | undefined {
    return this.loops.find((l) => l.type === type)?.stats();
  }

  /**
   * Stops pulling, waits up to `drainTimeoutMs` for running jobs, then hands the rest back for
   * redelivery. Idempotent.
   */
  async stop(): Promise<void> {
    this.metrics?.stop();
    await Promise.all(this.loops.map((l) => l.stop(this.drainTimeoutMs)));
  }
}

/** How often queue depths are read from JetStream for the pending and DLQ gauges. */
const QUEUE_METRICS_EVERY_MS = 10_000;

/**
 * The runner's gauges: jobs in flight (from the loops), jobs pending and dead letters (read from
 * JetStream every few seconds, so a scrape never waits on the server). Only with a MeterProvider.
 */
class RunnerMetrics {
  private pending = new Map<string, number>();
  private dlqSize: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly unobserve: (() => void)[];

  constructor(
    private readonly mesh: MeshConnection,
    private readonly loops: TypeLoop[],
  ) {
    const names = namesOf(mesh);
    this.unobserve = [
      observeGauge(
        METRIC_JOBS_IN_FLIGHT,
        "Jobs this host holds (running or waiting for a turn)",
        (report) => {
          for (const l of loops) report(l.stats().held, { [ATTR_TROUPE_QUEUE]: names.queueName(l.type) });
        },
      ),
      observeGauge(METRIC_JOBS_PENDING, "Jobs stored and not yet delivered", (report) => {
        for (const [queue, n] of this.pending) report(n, { [ATTR_TROUPE_QUEUE]: queue });
      }),
      observeGauge(METRIC_DLQ_SIZE, "Dead letters waiting for inspection or replay", (report) => {
        if (this.dlqSize !== undefined) report(this.dlqSize, { [ATTR_TROUPE_QUEUE]: names.dlqStream() });
      }),
    ];
    this.timer = setInterval(() => void this.refresh(), QUEUE_METRICS_EVERY_MS).unref();
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    const names = namesOf(this.mesh);
    const q = jetStreamQueues(this.mesh.transport);
    try {
      for (const l of this.loops) {
        const c = await q.consumerCounts(names.jobsStream(l.type), RUNNER_CONSUMER);
        if (c) this.pending.set(names.queueName(l.type), c.pending);
      }
      this.dlqSize = (await q.streamCounts(names.dlqStream()))?.messages;
    } catch (err) {
      this.mesh.logger.debug("reading queue depths for metrics failed", { err });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const u of this.unobserve.splice(0)) u();
  }
}

/** Starts pulling and running the jobs of `types` in this process. */
export async function startJobRunner(
  mesh: TurnDelivery,
  types: ActorClass[],
  options: JobRunnerOptions = {},
  /** The host's inbound interceptors (kind "job"). */
  inbound: readonly InboundInterceptor[] = [],
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
    inbound,
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
  return new JobRunner(loops, options.drainTimeoutMs ?? 30_000, mesh);
}

function positiveInt(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigurationError(`${what} must be a positive integer, got ${n}`);
  return n;
}

/** Job ids remembered as held back, per type (beyond it the memory starts over: more attempts counted). */
const MAX_HELD_BACK_IDS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pull loop and the jobs in flight of one actor type. */
class TypeLoop {
  private succeeded = 0;
  private retried = 0;
  private deadLettered = 0;
  private throttled = 0;
  /**
   * Deliveries of a job this runner held back for throttling, by job id: they are not attempts, so
   * `deliveryCount` minus these is the attempt number. In memory: a job held back by one host and
   * redelivered to another counts those deliveries as attempts there (never fewer attempts, only
   * possibly more).
   */
  private readonly heldBack = new Map<string, number>();
  private readonly pull: PullLoop;
  private readonly logger: Logger;
  private readonly stream: string;

  constructor(
    private readonly mesh: TurnDelivery,
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
    this.pull = new PullLoop(q, this.logger, {
      stream: this.stream,
      durable: RUNNER_CONSUMER,
      capacity,
      pullExpiresMs: s.pullExpiresMs,
      // The type's circuit is open: leave its jobs in the queue until it half-opens.
      paused: () => this.resilience.isOpen(this.type),
      ackWaitMs: s.ackWaitMs,
      handle: (m) => this.handle(m),
      logFields: { actorType: type },
    });
  }

  private get abandoned(): boolean {
    return this.pull.abandoned;
  }

  stats(): RunnerTypeStats {
    return {
      capacity: this.capacity,
      held: this.pull.held,
      maxHeld: this.pull.maxHeld,
      succeeded: this.succeeded,
      retried: this.retried,
      deadLettered: this.deadLettered,
      throttled: this.throttled,
    };
  }

  start(): void {
    this.pull.start();
  }

  stop(drainTimeoutMs: number): Promise<void> {
    return this.pull.stop(drainTimeoutMs);
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
    let job: JobEnvelope;
    try {
      job = decodeJob(m.data);
    } catch (err) {
      await this.deadLetter(m, undefined, m.deliveryCount, "malformed", err);
      return;
    }
    const attempt = Math.max(1, m.deliveryCount - (this.heldBack.get(job.jobId) ?? 0));
    if (m.malformedHeaders !== undefined) {
      await this.deadLetter(m, job, attempt, "malformed", malformedHeadersError(m.malformedHeaders));
      return;
    }
    const maxAttempts = job.maxAttempts || this.s.maxAttempts;
    const early = verdictBeforeAttempt(attempt, maxAttempts, m.storedAtMs, this.s);
    if (early?.action === "dead-letter") {
      await this.deadLetter(m, job, early.attempts, early.reason, early.error);
      return;
    }
    if (attempt === 1 && !this.heldBack.has(job.jobId)) this.resilience.budget(this.type).recordAttempt();
    else recordJobRetry(this.names.queueName(this.type));
    this.emit({ kind: "started", type: this.type, jobId: job.jobId, attempt, atMs: Date.now() });
    let value: unknown;
    try {
      value = await this.attempt(m, job, attempt);
    } catch (err) {
      if (this.abandoned) return;
      if (err instanceof HeldBack) {
        this.holdBack(m, job, err.throttled);
        return;
      }
      await this.failed(m, job, attempt, maxAttempts, err);
      return;
    }
    this.heldBack.delete(job.jobId);
    if (this.abandoned) return;
    await this.succeededWith(m, job, attempt, maxAttempts, value);
  }

  /**
   * The inbound chain refused the job with ThrottledError before its turn ran: the queue is the
   * inbox, so the job waits in it (Nak with the error's retryAfterMs, plus up to as much again of
   * jitter so held-back jobs do not all return at once) instead of failing an attempt.
   */
  private holdBack(m: QueueMessage, job: JobEnvelope, err: ThrottledError): void {
    if (this.heldBack.size >= MAX_HELD_BACK_IDS && !this.heldBack.has(job.jobId)) this.heldBack.clear();
    this.heldBack.set(job.jobId, (this.heldBack.get(job.jobId) ?? 0) + 1);
    const hint = err.retryAfterMs > 0 ? err.retryAfterMs : this.s.initialDelayMs;
    const delayMs = Math.ceil(hint + Math.random() * hint);
    this.throttled++;
    this.logger.debug("job throttled; holding it back", { actorType: this.type, jobId: job.jobId, delayMs });
    m.nak(delayMs);
  }

  /** One attempt: waits while the type's circuit is open (not counted as an attempt), then calls. */
  private async attempt(m: QueueMessage, job: JobEnvelope, attempt: number): Promise<unknown> {
    const caller = callerToForward(m.headers);
    const options =
      caller === undefined ? { timeoutMs: job.timeoutMs } : { timeoutMs: job.timeoutMs, caller };
    const deliver = () => this.mesh.callActor(this.cls, job.actorId, job.method, job.args, options);
    // A throttle's refusal before the turn ran resolves as HeldBack: handle() holds the job back.
    const call = throughInbound(
      this.s.inbound,
      () => ({
        kind: "job",
        actorType: this.type,
        actorId: job.actorId,
        method: job.method,
        headers: m.headers,
        timeoutMs: job.timeoutMs,
        delivery: {
          subject: m.subject,
          traceHeaders: m.headers,
          destination: this.names.queueName(this.type),
          consumer: RUNNER_CONSUMER,
          attempt,
          messageId: job.jobId,
        },
      }),
      deliver,
    );
    for (;;) {
      try {
        const value = await this.resilience.execute(this.type, call);
        if (value instanceof HeldBack) throw value;
        return value;
      } catch (err) {
        if (!(err instanceof CircuitOpenError) || !this.pull.isRunning) throw err;
      }
      await sleep(250 + Math.random() * 250);
    }
  }

  private async succeededWith(
    m: QueueMessage,
    job: JobEnvelope,
    attempt: number,
    maxAttempts: number,
    value: unknown,
  ): Promise<void> {
    let data: Uint8Array | undefined;
    if (job.keepResult) {
      try {
        data = encodeOutcome({ ok: true, value, attempts: attempt, finishedAtMs: Date.now() });
      } catch (err) {
        // The same verdict a call through NATS gets when its result cannot be encoded.
        const error = new MalformedMessageError(`result of ${this.type}.${job.method} cannot be encoded`, {
          cause: err,
        });
        await this.failed(m, job, attempt, maxAttempts, error);
        return;
      }
    }
    // Store the result before acking: if this process dies in between, the job runs again
    // (at-least-once) instead of finishing without a result.
    const stored = data === undefined || (await this.publishResult(job.jobId, data, m.headers));
    if (!stored) {
      const delayMs = fullJitterDelayMs(attempt, this.backoff());
      repeatsOf(this.logger).error(
        `result not stored:${this.type}`,
        "job result could not be stored; the job will run again",
        {
          actorType: this.type,
          jobId: job.jobId,
        },
      );
      m.nak(delayMs);
      return;
    }
    m.ack();
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
    const v = verdictAfterFailure(
      err,
      attempt,
      maxAttempts,
      m.storedAtMs,
      this.s,
      this.resilience.budget(this.type),
    );
    if (v.action === "dead-letter") {
      await this.deadLetter(m, job, v.attempts, v.reason, err);
      return;
    }
    const delayMs = v.delayMs;
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
  private async publishResult(
    jobId: string,
    data: Uint8Array,
    headers: QueueMessage["headers"],
  ): Promise<boolean> {
    for (let i = 1; ; i++) {
      try {
        await this.storeResult(jobId, data, headers);
        return true;
      } catch (err) {
        if (i >= 5) {
          repeatsOf(this.logger).warn(
            `storing a result failed:${failureKind(err)}`,
            "storing a job result failed",
            {
              jobId,
              err,
            },
          );
          return false;
        }
        await sleep(fullJitterDelayMs(i, { initialDelayMs: 500, maxDelayMs: 5000 }) + 100);
      }
    }
  }

  /**
   * Stores a result under the job's id and, for a job enqueued in another JetStream domain (an edge
   * site), a second copy for that domain: the edge's results stream sources those back.
   */
  private async storeResult(jobId: string, data: Uint8Array, headers: QueueMessage["headers"]) {
    await this.q.publish(this.names.resultSubject(jobId), data);
    const origin = originDomainOf(headers);
    if (origin !== undefined && origin !== (await domainOf(this.mesh))) {
      await this.q.publish(this.names.returnedResultSubject(jobId, origin), data);
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
    const record = deadLetterOf(m, {
      reason,
      type: this.type,
      attempts,
      host: this.s.hostName,
      error: err,
      jobId: job?.jobId,
      actorId: job?.actorId,
      method: job?.method,
    });
    const wire = record.error;
    try {
      await publishDeadLetter(this.q, this.names, record, `dlq-${this.stream}-${m.streamSeq}`);
      if (job?.keepResult) {
        await this.storeResult(
          job.jobId,
          encodeOutcome({ ok: false, error: wire, attempts, finishedAtMs: Date.now() }),
          m.headers,
        );
      }
    } catch (publishErr) {
      const again = redeliveryAfterFailedDeadLetter(publishErr, this.s);
      repeatsOf(this.logger).error(
        `dead-lettering failed:${this.type}:${again.tooLarge}`,
        again.tooLarge
          ? "a job too large to dead-letter stays in the queue; raise the server's max_payload or remove it"
          : "dead-lettering a job failed; it will be retried",
        { actorType: this.type, jobId: job?.jobId, seq: m.streamSeq, reason, err: publishErr },
      );
      m.nak(again.delayMs);
      return;
    }
    m.ack();
    this.deadLettered++;
    repeatsOf(this.logger).warn(
      `job dead-lettered:${this.type}:${reason}:${wire.code}`,
      "job dead-lettered",
      {
        actorType: this.type,
        jobId: job?.jobId,
        reason,
        attempts,
        code: wire.code,
        error: wire.message,
      },
    );
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
