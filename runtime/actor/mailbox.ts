/**
 * A bounded FIFO queue of turns for one activation. Push refuses (returns false) when full, so
 * the caller can answer "overloaded" instead of letting memory grow without bound.
 * The backing array is allocated on first use: idle activations carry no buffer.
 */
export class Mailbox<T> {
  private items: (T | undefined)[] | undefined;
  private head = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items ? this.items.length - this.head : 0;
  }

  push(item: T): boolean {
    if (this.size >= this.capacity) return false;
    if (!this.items) this.items = [];
    this.items.push(item);
    return true;
  }

  /** Bypasses the capacity check, for turns the runtime must not lose (re-dispatch after a stand-down). */
  pushUnbounded(item: T): void {
    if (!this.items) this.items = [];
    this.items.push(item);
  }

  shift(): T | undefined {
    const items = this.items;
    if (!items || this.head >= items.length) return undefined;
    const item = items[this.head];
    items[this.head++] = undefined;
    if (this.head === items.length) {
      this.items = undefined;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns everything queued. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }
}
