/** Actor classes shared by the integration tests. */
import { Actor } from "troupe";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Line {
  sku: string;
  qty: number;
  addedAt: Date;
}

export class Cart extends Actor<{ lines: Line[] }> {
  static initialState = () => ({ lines: [] as Line[] });

  async add(line: Line): Promise<number> {
    this.state.lines.push(line);
    return this.state.lines.length;
  }

  async lines(): Promise<Line[]> {
    return this.state.lines;
  }

  async total(prices: Record<string, number>): Promise<{ total: number; currency: string }> {
    const total = this.state.lines.reduce((sum, l) => sum + (prices[l.sku] ?? 0) * l.qty, 0);
    return { total, currency: "EUR" };
  }

  async checkout(): Promise<void> {
    if (this.state.lines.length === 0) throw new RangeError(`cart ${this.id} is empty`);
    this.state.lines = [];
  }

  /** Changes state, then throws: the change must not survive. */
  async addThenFail(line: Line): Promise<void> {
    this.state.lines.push(line);
    throw new Error("payment refused");
  }
}

/** Counts increments and checks that no two turns ever overlap. */
export class Counter extends Actor<{ value: number }> {
  static initialState = () => ({ value: 0 });
  static options = { mailboxCapacity: 5000 };
  static overlaps = 0;
  #inTurn = false;

  async increment(by = 1): Promise<number> {
    if (this.#inTurn) Counter.overlaps++;
    this.#inTurn = true;
    await sleep(0);
    this.state.value += by;
    this.#inTurn = false;
    return this.state.value;
  }

  async get(): Promise<number> {
    return this.state.value;
  }
}
