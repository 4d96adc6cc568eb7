import { Actor } from "troupe";
import type { Order } from "./order.js";

export interface Invoice {
  orderId: string;
  cart: string;
  items: number;
  issuedAt: Date;
}

/**
 * One invoice per order (the actor id is the order id). Issued by a durable job that checkout
 * enqueues: if the host running it dies, the job is redelivered and issuing is idempotent.
 */
export class Invoices extends Actor<{ invoice: Invoice | null }> {
  static initialState = () => ({ invoice: null as Invoice | null });

  async issue(order: Order): Promise<Invoice> {
    this.state.invoice ??= {
      orderId: order.orderId,
      cart: order.cart,
      items: order.lines.reduce((n, l) => n + l.qty, 0),
      issuedAt: new Date(),
    };
    return this.state.invoice;
  }

  async get(): Promise<Invoice | null> {
    return this.state.invoice;
  }
}
