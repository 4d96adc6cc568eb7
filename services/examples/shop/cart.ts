import { Actor } from "troupe";
import { Inventory } from "./inventory.js";
import { Invoices } from "./invoices.js";
import type { CartLine, Order } from "./order.js";

export type { CartLine, Order } from "./order.js";

/**
 * A shopper's cart (the actor id is the shopper). Checkout reserves stock from each SKU's Inventory
 * actor (request-reply), enqueues the invoice (a durable job) and publishes `orders.placed` (an
 * event every interested actor type gets).
 */
export class Cart extends Actor<{ lines: CartLine[]; orders: number }> {
  static initialState = () => ({ lines: [] as CartLine[], orders: 0 });

  async add(sku: string, qty = 1): Promise<CartLine[]> {
    const line = this.state.lines.find((l) => l.sku === sku);
    if (line) line.qty += qty;
    else this.state.lines.push({ sku, qty });
    return this.state.lines;
  }

  async view(): Promise<CartLine[]> {
    return this.state.lines;
  }

  /** Reserves every line; if one SKU is short, releases what was reserved and fails. */
  async checkout(): Promise<Order> {
    if (this.state.lines.length === 0) throw new RangeError("the cart is empty");
    const reserved: CartLine[] = [];
    try {
      for (const line of this.state.lines) {
        await this.ref(Inventory, line.sku).reserve(line.qty);
        reserved.push(line);
      }
    } catch (err) {
      await Promise.all(reserved.map((l) => this.ref(Inventory, l.sku).release(l.qty)));
      throw err;
    }
    const order: Order = {
      orderId: `${this.id}-${this.state.orders + 1}`,
      cart: this.id,
      lines: this.state.lines,
      placedAt: new Date(),
    };
    await this.enqueue(Invoices, order.orderId, { key: order.orderId }).issue(order);
    await this.publish("orders.placed", order, { msgId: order.orderId });
    this.state.lines = [];
    this.state.orders++;
    return order;
  }
}
