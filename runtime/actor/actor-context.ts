import type { ActorClass, ActorRef, CallOptions } from "./actor-ref.js";
import type { ActorShape } from "./actor-shape.js";
import type {
  EnqueueOptions,
  EnqueueRef,
  PublishOptions,
  PublishReceipt,
  ReminderSchedule,
} from "./services.js";

/** What the runtime gives an actor instance: its identity and the services of its activation. */
export interface ActorContext {
  readonly id: string;
  ref<A extends ActorShape>(type: ActorClass<A>, id: string, options?: CallOptions): ActorRef<A>;
  enqueue<A extends ActorShape>(type: ActorClass<A>, id: string, options?: EnqueueOptions): EnqueueRef<A>;
  publish(topic: string, event: unknown, options?: PublishOptions): Promise<PublishReceipt>;
  setTimer(name: string, delayMs: number, callback: () => unknown, everyMs?: number): void;
  clearTimer(name: string): void;
  remind(name: string, schedule: ReminderSchedule): Promise<void>;
  unremind(name: string): Promise<void>;
  remainingMs(): number;
}

/** The mesh-wide services behind every activation's {@link ActorContext}. */
export interface ContextServices extends Pick<ActorContext, "ref" | "enqueue" | "publish"> {
  remind(type: ActorClass, id: string, name: string, schedule: ReminderSchedule): Promise<void>;
  unremind(type: ActorClass, id: string, name: string): Promise<void>;
}
