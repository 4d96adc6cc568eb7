/**
 * Publish-subscribe: an order event fans out to three subscriber types. Billing handles each
 * order on the actor named by its id; Mailer only sees big paid orders (a filter expression);
 * Stats is one stateful actor counting every order event (`orders.>`).
 *
 *   node --conditions=troupe-source --import tsx services/examples/pubsub/orders.ts
 */
import { Actor, type EventInfo, subscribe } from "troupe";
import { type Example, runIfMain } from "../jobs/setup.js";

export interface OrderEvent {
  orderId: string;
  total: number;
  status: "open" | "paid";
}

export class Billing extends Actor<{ invoiced: number[] }> {
  static initialState = () => ({ invoiced: [] as number[] });
  @subscribe("orders.paid", { key: (e: OrderEvent) => e.orderId })
  async onPaid(e: OrderEvent, info: EventInfo) {
    this.state.invoiced.push(info.seq ?? 0); // attempt > 1 would mean a redelivery
    return e.total;
  }
  async invoices(): Promise<number> {
    return this.state.invoiced.length;
  }
}

export const mailed: string[] = [];

export class Mailer extends Actor {
  static options = { stateless: true };
  @subscribe("orders.paid", { filter: 'total >= 100 && status == "paid"' })
  async onBigOrder(e: OrderEvent) {
    mailed.push(e.orderId);
  }
}

export class Stats extends Actor<{ events: number }> {
  static initialState = () => ({ events: 0 });
  @subscribe("orders.>", { ordered: true })
  async onOrder(_e: OrderEvent) {
    this.state.events++;
  }
  async count(): Promise<number> {
    return this.state.events;
  }
}

export const ordersExample: Example = async (mesh, log) => {
  const types = [Billing, Mailer, Stats];
  const host = await mesh.host(types); // hosting a type starts its @subscribe consumers
  try {
    const orders: OrderEvent[] = [
      { orderId: "o-1", total: 40, status: "paid" },
      { orderId: "o-2", total: 250, status: "paid" },
      { orderId: "o-3", total: 90, status: "open" },
    ];
    for (const o of orders) {
      const topic = o.status === "paid" ? "orders.paid" : "orders.created";
      await mesh.publish(topic, o, { msgId: `${o.orderId}-${o.status}` });
    }
    const stats = mesh.ref(Stats, "onOrder"); // a keyless stateful subscriber: the method's name
    while ((await stats.count()) < orders.length) await new Promise((r) => setTimeout(r, 50));
    while (mailed.length < 1) await new Promise((r) => setTimeout(r, 50));
    log(`stats saw ${await stats.count()} order events`);
    log(
      `billing invoiced o-1: ${await mesh.ref(Billing, "o-1").invoices()}, o-2: ${await mesh.ref(Billing, "o-2").invoices()}`,
    );
    log(`mailed: ${mailed.join(", ")}`);
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, ordersExample);
