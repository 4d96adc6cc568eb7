/**
 * A bounded FIFO queue of turns for one activation. Push refuses (returns false) when full, so
 * the caller can answer "overloaded" instead of letting memory grow without bound.
 *
 * The front item is kept in a field of its own and the rest in an array made only when a second
 * item waits: an activation that gets one call at a time (the common case: each caller awaits its
 * reply) queues and takes its turns without allocating, and idle activations carry no buffer.
 */
export class Mailbox<T> {
  /** The front of the queue; undefined only when the queue is empty. */
  private front: T | undefined = undefined;
  /** The items behind {@link front}, from index `head`; undefined when there are none. */
  private items: (T | undefined)[] | undefined;
  private head = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    if (this.front === undefined) return 0;
    return this.items ? 1 + this.items.length - this.head : 1;
  }

  push(item: T): boolean {
    if (this.size >= this.capacity) return false;
    this.pushUnbounded(item);
    return true;
  }

  /** Bypasses the capacity check, for turns the runtime must not lose (re-dispatch after a stand-down). */
  pushUnbounded(item: T): void {
    if (this.front === undefined) this.front = item;
    else if (this.items) this.items.push(item);
    else this.items = [item];
  }

  shift(): T | undefined {
    const out = this.front;
    if (out === undefined) return undefined;
    const items = this.items;
    if (!items) {
      this.front = undefined;
      return out;
    }
    this.front = items[this.head];
    items[this.head++] = undefined;
    if (this.head === items.length) {
      this.items = undefined;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Removes and returns everything queued. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }
}
