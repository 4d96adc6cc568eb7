/**
 * The pull loop and the jobs in flight of one actor type: it pulls from the type's durable consumer
 * within the type's capacity (paused while the type's circuit is open: its jobs stay in the queue
 * until it half-opens), and for each delivery decodes the job, counts the attempt (deliveries held
 * back for throttling are not attempts), runs it (job-attempt.ts) and settles the message with the
 * outcome (job-outcome.ts), or holds it back when the inbound chain throttled it.
 */
import type { ActorClass } from "../actor/index.js";
import { HeldBack, PullLoop, type TurnDelivery, verdictBeforeAttempt } from "../durable/index.js";
import type { ThrottledError } from "../errors.js";
import type { Logger } from "../log.js";
import { decodeJob, type JobEnvelope, type JobNames, RUNNER_CONSUMER } from "../messaging/index.js";
import type { Resilience } from "../resilience/index.js";
import { recordJobRetry } from "../telemetry/index.js";
import { type JetStreamQueues, malformedHeadersError, type QueueMessage } from "../transport/index.js";
import { attemptJob, type JobTarget } from "./job-attempt.js";
import { JobOutcomes } from "./job-outcome.js";
import type { RunnerSettings, RunnerTypeStats } from "./runner-options.js";

/** Job ids remembered as held back, per type (beyond it the memory starts over: more attempts counted). */
const MAX_HELD_BACK_IDS = 10_000;

export class TypeLoop {
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
  private readonly outcomes: JobOutcomes;
  private readonly target: JobTarget;

  constructor(
    mesh: TurnDelivery,
    cls: ActorClass,
    readonly type: string,
    private readonly capacity: number,
    private readonly s: RunnerSettings,
    private readonly names: JobNames,
    q: JetStreamQueues,
    private readonly resilience: Resilience,
  ) {
    this.logger = mesh.logger;
    const stream = names.jobsStream(type);
    this.target = { mesh, cls, type, names, resilience, inbound: s.inbound };
    this.outcomes = new JobOutcomes(mesh, type, stream, s, names, q, resilience);
    this.pull = new PullLoop(q, this.logger, {
      stream,
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
      ...this.outcomes.counts,
      throttled: this.throttled,
    };
  }

  start(): void {
    this.pull.start();
  }

  stop(drainTimeoutMs: number): Promise<void> {
    return this.pull.stop(drainTimeoutMs);
  }

  /** Runs one delivery of a job and settles its message (ack, nak with delay, or dead-letter + ack). */
  private async handle(m: QueueMessage): Promise<void> {
    let job: JobEnvelope;
    try {
      job = decodeJob(m.data);
    } catch (err) {
      await this.outcomes.deadLetter(m, undefined, m.deliveryCount, "malformed", err);
      return;
    }
    const attempt = Math.max(1, m.deliveryCount - (this.heldBack.get(job.jobId) ?? 0));
    if (m.malformedHeaders !== undefined) {
      await this.outcomes.deadLetter(m, job, attempt, "malformed", malformedHeadersError(m.malformedHeaders));
      return;
    }
    const maxAttempts = job.maxAttempts || this.s.maxAttempts;
    const early = verdictBeforeAttempt(attempt, maxAttempts, m.storedAtMs, this.s);
    if (early?.action === "dead-letter") {
      await this.outcomes.deadLetter(m, job, early.attempts, early.reason, early.error);
      return;
    }
    if (attempt === 1 && !this.heldBack.has(job.jobId)) this.resilience.budget(this.type).recordAttempt();
    else recordJobRetry(this.names.queueName(this.type));
    this.outcomes.emit({ kind: "started", type: this.type, jobId: job.jobId, attempt, atMs: Date.now() });
    let value: unknown;
    try {
      value = await attemptJob(this.target, m, job, attempt, () => this.pull.isRunning);
    } catch (err) {
      if (this.abandoned) return;
      if (err instanceof HeldBack) {
        this.holdBack(m, job, err.throttled);
        return;
      }
      await this.outcomes.failed(m, job, attempt, maxAttempts, err);
      return;
    }
    this.heldBack.delete(job.jobId);
    if (this.abandoned) return;
    await this.outcomes.succeededWith(m, job, attempt, maxAttempts, value);
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
}
