import { Actor, type EventInfo, subscribe } from "troupe";
import type { Order } from "./order.js";

/**
 * A shopper's notification feed (the actor id is the shopper). Every placed order reaches it as
 * an event: the `orders.placed` topic has its own durable consumer for this type.
 */
export class Notifications extends Actor<{ messages: string[] }> {
  static initialState = () => ({ messages: [] as string[] });

  @subscribe("orders.placed", { key: (order: Order) => order.cart })
  async onOrderPlaced(order: Order, info: EventInfo): Promise<void> {
    // At-least-once delivery: skip an event this feed already recorded.
    const text = `order ${order.orderId} placed (${order.lines.length} line(s))`;
    if (info.attempt > 1 && this.state.messages.includes(text)) return;
    this.state.messages.push(text);
  }

  async list(): Promise<string[]> {
    return this.state.messages;
  }
}
