/**
 * Edge sites (docs/patterns/edge-sites.md): a shop's till runs at an edge site, a nats-server
 * that is a leaf node of the hub with its own JetStream domain. While the link is down the till
 * keeps answering calls and records sales; the sales events and the invoice jobs reach the hub
 * once it is back, each exactly once; the result of an invoice job enqueued at the edge while the
 * link was down reaches the edge's `job.result()` once it is back.
 *
 * Run it: `node --conditions=troupe-source --import tsx services/examples/edge/store.ts`
 * (it starts a hub and an edge nats-server on free loopback ports and cuts the link between them).
 */
import { pathToFileURL } from "node:url";
import {
  Actor,
  connect,
  consoleLogger,
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

/** Hosted at the edge: the till answers calls while the link is down (its state is in the edge's KV). */
export class Till extends Actor<{ sales: number }> {
  static initialState = () => ({ sales: 0 });
  async sell(sale: Sale): Promise<number> {
    this.state.sales++;
    await this.publish("sales.recorded", sale, { msgId: `sale-${sale.saleId}` });
    await this.enqueue(Invoices, "invoices").issue(sale);
    return this.state.sales;
  }
}

/** What the hub saw, in this process (each id should appear once). */
export const seenAtHub = { sales: [] as string[], invoices: [] as string[] };

/** Hosted at the hub: every sale event published at any edge site. */
export class Ledger extends Actor {
  @subscribe("sales.recorded", { key: (s: Sale) => s.saleId, startAt: "all" })
  async onSale(sale: Sale) {
    seenAtHub.sales.push(sale.saleId);
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

/** The scenario: sell 2 with the link up, 3 with it cut, restore it, and wait for the hub. */
export async function edgeExample(
  site: EdgeSiteTest,
  hub: Mesh,
  edge: Mesh,
  log: (line: string) => void,
): Promise<void> {
  // At the edge: the streams the hub copies, and results of its jobs sourced back from the hub.
  await edgeSite(edge, { jobs: ["Invoices"], hubDomain: site.hubDomain });
  await edgeLink(hub, { domain: site.domain, jobs: ["Invoices"] }); // at the hub: source them
  const hubHost = await hub.host([Ledger, Invoices]);
  const edgeHost = await edge.host([Till]);
  try {
    const till = edge.ref(Till, "till-1");
    for (const saleId of ["s1", "s2"]) await till.sell({ saleId, total: 10 });
    await until(() => seenAtHub.invoices.length === 2 && seenAtHub.sales.length === 2, "the first two sales");
    log(`link up: hub saw ${seenAtHub.sales.length} sales, ${seenAtHub.invoices.length} invoices`);

    site.link.cut();
    await site.waitForLink(false);
    for (const saleId of ["s3", "s4", "s5"]) await till.sell({ saleId, total: 20 });
    log(
      `link down: the till sold ${await till.sell({ saleId: "s6", total: 5 })} in all; hub saw ${seenAtHub.sales.length} sales`,
    );
    // A copy of an invoice, enqueued at the edge: it runs at the hub, its result comes back.
    const copy = await edge.enqueue(Invoices, "invoices").issue({ saleId: "s6-copy", total: 5 });

    site.link.restore();
    await site.waitForLink(true);
    await until(async () => {
      const lagging = (await edgeLinkStatus(hub, { domain: site.domain, jobs: ["Invoices"] })).some(
        (s) => s.lag > 0,
      );
      return !lagging && seenAtHub.sales.length >= 6 && seenAtHub.invoices.length >= 7;
    }, "the hub to catch up");
    log(`link back: hub saw ${seenAtHub.sales.length} sales, ${seenAtHub.invoices.length} invoices`);
    log(`the edge got: ${await copy.result({ timeoutMs: 90_000 })}`);
  } finally {
    await edgeHost.drain();
    await hubHost.drain();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const site = await startEdgeSite({ domain: "store-1" });
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
