import { Actor } from "troupe";

/** Thrown when a reservation asks for more than is in stock. */
export class OutOfStockError extends Error {
  override name = "OutOfStockError";
  readonly code = "OUT_OF_STOCK";
}

/** Stock of one SKU (the actor id is the SKU). */
export class Inventory extends Actor<{ available: number; reserved: number }> {
  static initialState = () => ({ available: 0, reserved: 0 });

  async restock(qty: number): Promise<number> {
    assertQuantity(qty);
    this.state.available += qty;
    return this.state.available;
  }

  async reserve(qty: number): Promise<number> {
    assertQuantity(qty);
    if (qty > this.state.available) {
      throw new OutOfStockError(`only ${this.state.available} of ${this.id} left, ${qty} wanted`);
    }
    this.state.available -= qty;
    this.state.reserved += qty;
    return this.state.available;
  }

  async release(qty: number): Promise<void> {
    assertQuantity(qty);
    const back = Math.min(qty, this.state.reserved);
    this.state.reserved -= back;
    this.state.available += back;
  }

  async available(): Promise<number> {
    return this.state.available;
  }
}

function assertQuantity(qty: number): void {
  if (!Number.isInteger(qty) || qty <= 0)
    throw new RangeError(`quantity must be a positive integer, got ${qty}`);
}
