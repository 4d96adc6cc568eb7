import { Actor } from "troupe";

/** A page-visit counter (the actor id is the page). */
export class Visits extends Actor<{ count: number }> {
  static initialState = () => ({ count: 0 });

  async hit(): Promise<number> {
    return ++this.state.count;
  }

  async count(): Promise<number> {
    return this.state.count;
  }
}
