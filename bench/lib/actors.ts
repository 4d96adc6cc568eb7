/**
 * The actor types the benchmarks host. Callers import them too (for `mesh.ref(Type, id)`); the
 * host process picks them by name.
 */
import { Actor, type ActorClass, subscribe } from "troupe";
import type { Payload } from "./payload.js";

/** Stateless: returns its argument. The cheapest possible actor call. */
export class Echo extends Actor {
  async echo(p: Payload): Promise<Payload> {
    return p;
  }
}

/** Stateful: every `add` changes the state, so every turn saves it (KV compare-and-set) before replying. */
export class Counter extends Actor<{ count: number }> {
  static initialState = () => ({ count: 0 });
  async add(p: Payload): Promise<number> {
    this.state.count += p.qty;
    return this.state.count;
  }
}

/** Stateful, read on first call: the cold-activation row measures loading its state. */
export class Cold extends Actor<{ count: number }> {
  static initialState = () => ({ count: 0 });
  async get(): Promise<number> {
    return this.state.count;
  }
}

/** Receives tells. The tell scenario counts turns through `Sink.onHit` in the host process. */
export class Sink extends Actor {
  static onHit: (() => void) | undefined;
  async hit(_p: Payload): Promise<void> {
    Sink.onHit?.();
  }
}

/** Stateless and empty: what an idle activation costs is the runtime's own bookkeeping. */
export class Idle extends Actor {
  async touch(): Promise<boolean> {
    return true;
  }
}

/** Durable jobs: a stateless worker whose job does nothing but count itself (jobs scenario). */
export class JobWorker extends Actor {
  static options = { stateless: true };
  static onDone: (() => void) | undefined;
  async work(_p: Payload): Promise<void> {
    JobWorker.onDone?.();
  }
}

/** The pub-sub topic the three fan-out subscribers listen to. */
export const FAN_TOPIC = "bench.fan";
const byId = { key: (e: Payload) => e.id };

/** Fan-out subscribers: three types, each with its own durable consumer on the events stream. */
export class FanA extends Actor {
  static onEvent: ((lane: number) => void) | undefined;
  @subscribe(FAN_TOPIC, byId)
  async onFan(_e: Payload): Promise<void> {
    FanA.onEvent?.(0);
  }
}
export class FanB extends Actor {
  @subscribe(FAN_TOPIC, byId)
  async onFan(_e: Payload): Promise<void> {
    FanA.onEvent?.(1);
  }
}
export class FanC extends Actor {
  @subscribe(FAN_TOPIC, byId)
  async onFan(_e: Payload): Promise<void> {
    FanA.onEvent?.(2);
  }
}

export const BENCH_ACTORS: Record<string, ActorClass> = {
  Echo,
  Counter,
  Cold,
  Sink,
  Idle,
  JobWorker,
  FanA,
  FanB,
  FanC,
};

const classes = new Map<string, ActorClass>();

/** A placed type (state, so fenced) named `name`, the same class for the same name in a process. */
export function placedType(name: string, shards: number): ActorClass {
  let cls = classes.get(name);
  if (!cls) {
    cls = class extends Actor<{ n: number }> {
      static typeName = name;
      static initialState = () => ({ n: 0 });
      static options = { shards };
      async touch(): Promise<boolean> {
        return true;
      }
    } as unknown as ActorClass;
    classes.set(name, cls);
  }
  return cls;
}
