/**
 * The actor types the benchmarks host. Callers import them too (for `mesh.ref(Type, id)`); the
 * host process picks them by name.
 */
import { Actor, type ActorClass } from "troupe";
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

export const BENCH_ACTORS: Record<string, ActorClass> = { Echo, Counter, Cold, Sink, Idle };
