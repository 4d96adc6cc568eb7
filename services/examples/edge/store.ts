/**
 * Edge sites (docs/patterns/edge-sites.md): a shop's till runs at an edge site, a nats-server
 * that is a leaf node of the hub with its own JetStream domain. While the link is down the till
 * keeps answering calls and records sales; the sales events and the invoice jobs reach the hub
 * once it is back, each exactly once; the result of an invoice job enqueued at the edge while the
 * link was down reaches the edge's `job.result()` once it is back. The other way, a price the hub
 * changes while the link is down reaches the till when it is back (hub events). The shop's door
 * counter, an MQTT device on the edge's server, counts visitors through the outage; the hub's
 * ledger gets every count once (device messages sourced like events).
 *
 * Run it: `node --conditions=troupe-source --import tsx services/examples/edge/store.ts`
 * (it starts a hub and an edge nats-server, MQTT on at the edge, on free loopback ports and cuts
 * the link between them).
 */
import { pathToFileURL } from "node:url";
import mqtt from "mqtt";
import {
  Actor,
  connect,
  consoleLogger,
  type DeviceMessage,
  edgeLink,
  edgeLinkStatus,
  edgeSite,
  type Mesh,
  subscribe,
} from "troupe";
import { type EdgeSiteTest, startEdgeSite } from "troupe/testing";

export interface Sale {
  saleId: string;
  total: number;
}

/** A price set at the hub, for every till. */
export interface PriceChange {
  item: string;
  cents: number;
}

/**
 * MQTT topics whose messages the edge keeps and forwards to the hub by sourcing: the same list for
 * the link's deny list (`startEdgeSite`/`leafRemoteConfig`), `edgeSite` and `edgeLink`.
 */
export const STORE_DEVICES = ["store/+/visits"];

/** Hosted at the edge: the till answers calls while the link is down (its state is in the edge's KV). */
export class Till extends Actor<{ sales: number; prices: Record<string, number> }> {
  static initialState = () => ({ sales: 0, prices: {} as Record<string, number> });

  /** Prices are set at the hub; they reach the edge's tills through the hub's events. */
  @subscribe("prices.changed", { key: () => "till-1" })
  async onPrice(change: PriceChange) {
    this.state.prices[change.item] = change.cents;
  }

  async price(item: string): Promise<number | undefined> {
    return this.state.prices[item];
  }

  async sell(sale: Sale): Promise<number> {
    this.state.sales++;
    await this.publish("sales.recorded", sale, { msgId: `sale-${sale.saleId}` });
    await this.enqueue(Invoices, "invoices").issue(sale);
    return this.state.sales;
  }
}

/** What the hub saw, in this process (each id should appear once). */
export const seenAtHub = { sales: [] as string[], invoices: [] as string[], visits: [] as number[] };

/** Hosted at the hub: every sale event published at any edge site, and every door count. */
export class Ledger extends Actor {
  @subscribe("sales.recorded", { key: (s: Sale) => s.saleId, startAt: "all" })
  async onSale(sale: Sale) {
    seenAtHub.sales.push(sale.saleId);
  }

  @subscribe("store/+/visits", {
    mqtt: true,
    key: (m: DeviceMessage<{ count: number }>) => m.topic.split("/")[1] as string,
  })
  async onVisits(m: DeviceMessage<{ count: number }>) {
    seenAtHub.visits.push(m.payload.count);
  }
}

/** Hosted at the hub: invoice jobs enqueued at the edge run here. */
export class Invoices extends Actor {
  async issue(sale: Sale): Promise<string> {
    seenAtHub.invoices.push(sale.saleId);
    return `invoice for ${sale.saleId}`;
  }
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The scenario: sell 2 with the link up, 3 with it cut (a price changes at the hub meanwhile, the
 * door counter goes on counting), restore it, and wait for both sides. `site` needs MQTT at the
 * edge and {@link STORE_DEVICES} in its deny list (`startEdgeSite({ edgeMqtt: true, devices })`).
 */
export async function edgeExample(
  site: EdgeSiteTest,
  hub: Mesh,
  edge: Mesh,
  log: (line: string) => void,
): Promise<void> {
  const devices = STORE_DEVICES;
  // At the edge: the streams the hub copies, results of its jobs and the hub's price changes
  // sourced back from the hub, and the door counter's messages kept for the hub; the edge server's
  // monitoring port shows its leaf remote, whose deny lists must keep the door counter off the link.
  await edgeSite(edge, {
    jobs: ["Invoices"],
    hubDomain: site.hubDomain,
    hubEvents: "prices.>",
    devices,
    monitorUrl: site.edge.monitorUrl,
  });
  await edgeLink(hub, { domain: site.domain, jobs: ["Invoices"], devices }); // at the hub: source them
  const hubHost = await hub.host([Ledger, Invoices]);
  const edgeHost = await edge.host([Till]);
  const door = await mqtt.connectAsync(site.edgeMqttUrl as string, { clientId: "door-1", clean: false });
  let visitors = 0;
  const countVisitor = () =>
    door.publishAsync("store/door-1/visits", JSON.stringify({ count: ++visitors }), { qos: 1 });
  try {
    const till = edge.ref(Till, "till-1");
    await hub.publish("prices.changed", { item: "tea", cents: 250 }, { msgId: "tea-250" });
    for (const saleId of ["s1", "s2"]) {
      await countVisitor();
      await till.sell({ saleId, total: 10 });
    }
    await until(
      async () =>
        seenAtHub.invoices.length === 2 &&
        seenAtHub.sales.length === 2 &&
        seenAtHub.visits.length === 2 &&
        (await till.price("tea")) === 250,
      "the first two sales",
    );
    log(
      `link up: hub saw ${seenAtHub.sales.length} sales, ${seenAtHub.invoices.length} invoices, ${seenAtHub.visits.length} visitors; tea costs ${await till.price("tea")} at the till`,
    );

    site.link.cut();
    await site.waitForLink(false);
    await hub.publish("prices.changed", { item: "tea", cents: 275 }, { msgId: "tea-275" });
    for (const saleId of ["s3", "s4", "s5"]) {
      await countVisitor();
      await till.sell({ saleId, total: 20 });
    }
    log(
      `link down: the till sold ${await till.sell({ saleId: "s6", total: 5 })} in all; hub saw ${seenAtHub.sales.length} sales, ${seenAtHub.visits.length} visitors; tea still costs ${await till.price("tea")} at the till`,
    );
    // A copy of an invoice, enqueued at the edge: it runs at the hub, its result comes back.
    const copy = await edge.enqueue(Invoices, "invoices").issue({ saleId: "s6-copy", total: 5 });

    site.link.restore();
    await site.waitForLink(true);
    await until(async () => {
      const lagging = (await edgeLinkStatus(hub, { domain: site.domain, jobs: ["Invoices"], devices })).some(
        (s) => s.lag > 0,
      );
      return (
        !lagging &&
        seenAtHub.sales.length >= 6 &&
        seenAtHub.invoices.length >= 7 &&
        seenAtHub.visits.length >= 5 &&
        (await till.price("tea")) === 275
      );
    }, "both sides to catch up");
    log(
      `link back: hub saw ${seenAtHub.sales.length} sales, ${seenAtHub.invoices.length} invoices, ${seenAtHub.visits.length} visitors; tea costs ${await till.price("tea")} at the till`,
    );
    log(`the edge got: ${await copy.result({ timeoutMs: 90_000 })}`);
  } finally {
    await door.endAsync();
    await edgeHost.drain();
    await hubHost.drain();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const site = await startEdgeSite({ domain: "store-1", edgeMqtt: true, devices: STORE_DEVICES });
  const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  const hub = await connect({ servers: site.hub.url, name: "hub", logger });
  const edge = await connect({ servers: site.edge.url, name: "till", logger });
  try {
    await edgeExample(site, hub, edge, (line) => console.log(line));
  } finally {
    await edge.close();
    await hub.close();
    await site.cleanup();
  }
}
