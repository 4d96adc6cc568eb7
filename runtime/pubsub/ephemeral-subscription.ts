/**
 * An ephemeral subscription (`durable: false`): a core NATS queue group per type and method, so one
 * host of the type handles each event. At-most-once: an event published while no host of the type
 * is connected, or whose handler fails, is gone; beyond `ephemeralMaxInFlight` running handlers,
 * new events are dropped.
 */
import { failureKind, repeatsOf } from "../log.js";
import { assertWellFormedHeaders, type InboundMessage, type SubscriptionHandle } from "../transport/index.js";
import type { EventInfo } from "./event.js";
import type { SubscriptionStats } from "./subscriber-options.js";
import { Subscription } from "./subscription.js";

export class EphemeralSubscription extends Subscription {
  private handle: SubscriptionHandle | undefined;
  private readonly running = new Set<Promise<void>>();
  private spread = 0;

  stats(): SubscriptionStats {
    return {
      durable: this.spec.durable,
      pattern: this.spec.pattern,
      ...this.n,
      held: this.running.size,
      maxHeld: 0,
    };
  }

  start(): void {
    this.handle = this.mesh.transport.subscribe(
      this.names.subject(this.spec.pattern),
      { queue: this.names.queueGroup(this.type.name, this.spec.method) },
      (msg) => this.onEphemeral(msg),
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.handle) {
      await this.handle.drain().catch(() => undefined);
      await Promise.all(this.running);
    }
  }

  private onEphemeral(msg: InboundMessage): void {
    const topic = this.names.topicOf(msg.subject);
    const base = { subscription: this.name, topic, attempt: 1, seq: undefined };
    if (this.stopped) return;
    if (this.running.size >= this.s.ephemeralMaxInFlight) {
      this.n.dropped++;
      this.emit({ kind: "dropped", ...base, error: new Error("too many events in flight") });
      return;
    }
    const run = (async () => {
      try {
        assertWellFormedHeaders(msg);
        const event = this.decode(msg.subject, msg.data, msg.headers);
        if (this.spec.filter && !this.spec.filter(event)) {
          this.n.filtered++;
          this.emit({ kind: "filtered", ...base });
          return;
        }
        const msgId = msg.headers?.has("Nats-Msg-Id") ? msg.headers.get("Nats-Msg-Id") : undefined;
        const info: EventInfo = {
          topic,
          subscription: this.name,
          attempt: 1,
          ...(msgId ? { msgId } : {}),
          durable: false,
        };
        await this.invoke(this.actorIdFor(event, this.spread++), event, info, msg.headers);
        this.n.handled++;
        this.emit({ kind: "handled", ...base });
      } catch (err) {
        this.n.failed++;
        repeatsOf(this.logger).warn(
          `ephemeral event failed:${this.name}:${failureKind(err)}`,
          "ephemeral event handler failed; the event is dropped (at-most-once)",
          {
            subscription: this.name,
            topic,
            err,
          },
        );
        this.emit({ kind: "failed", ...base, error: err });
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }
}
