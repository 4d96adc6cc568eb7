import test from "ava";
import { Actor, type EventInfo, subscribe } from "troupe";
import { TestMesh } from "troupe/testing";
import type { DecodedSpan } from "../helpers/otlp-receiver.js";
import { exportSpansToReceiver } from "../helpers/telemetry.js";

// One flow across every kind of hop, followed on spans a real OTLP receiver decoded from the wire:
// client -> Orders (request-reply) -> job for Billing -> Billing publishes "invoices.issued"
// -> subscriber Notifier -> Notifier calls Mailbox (request-reply).
const otel = exportSpansToReceiver(test, "troupe-flow-test");

interface Invoice {
  orderId: string;
  amount: number;
}

const delivered: string[] = [];
let failFirstBilling = false;

class Orders extends Actor {
  async place(orderId: string, amount: number): Promise<string> {
    const job = await this.enqueue(Billing, orderId).charge({ orderId, amount });
    return job.id;
  }
}

class Billing extends Actor {
  async charge(invoice: Invoice): Promise<void> {
    if (failFirstBilling) {
      failFirstBilling = false;
      throw new Error("payment gateway hiccup");
    }
    await this.publish("invoices.issued", invoice, { msgId: `inv-${invoice.orderId}` });
  }
}

class Notifier extends Actor {
  static options = { stateless: true };
  @subscribe("invoices.issued", { key: (e: Invoice) => e.orderId })
  async onInvoice(invoice: Invoice, _info: EventInfo): Promise<void> {
    await this.ref(Mailbox, "customer").deliver(`invoice for ${invoice.orderId}`);
  }
}

class Mailbox extends Actor {
  async deliver(text: string): Promise<void> {
    delivered.push(text);
  }
}

const types = [Orders, Billing, Notifier, Mailbox];

async function spansOfTrace(traceId: string, names: string[]): Promise<DecodedSpan[]> {
  await otel.telemetry.forceFlush();
  const all = await otel.receiver.waitForSpans(
    (spans) => names.every((n) => spans.some((s) => s.traceId === traceId && s.name === n)),
    30_000,
  );
  return all.filter((s) => s.traceId === traceId);
}

function only(spans: DecodedSpan[], name: string, kind: string): DecodedSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} "${name}", got ${found.length}`);
  return found[0] as DecodedSpan;
}

test.serial(
  "flow - request-reply, a job, an event and a nested call land in one trace with the right parents",
  async (t) => {
    const tm = await TestMesh.start({ types, host: { jobs: { initialDelayMs: 10 } } });
    t.teardown(() => tm.close());
    const jobId = await tm.ref(Orders, "o").place("order-1", 42);
    await tm.client.job(jobId).result({ timeoutMs: 30_000 });
    while (!delivered.includes("invoice for order-1")) await new Promise((r) => setTimeout(r, 20));

    await otel.telemetry.forceFlush();
    const first = await otel.receiver.waitForSpans((s) => s.some((x) => x.name === "call Orders.place"));
    const root = only(first, "call Orders.place", "CLIENT");
    const spans = await spansOfTrace(root.traceId, [
      "process Orders.place",
      "process Billing.charge",
      "process Notifier.onInvoice",
      "process Mailbox.deliver",
    ]);
    const placeTurn = only(spans, "process Orders.place", "SERVER");
    t.is(placeTurn.parentSpanId, root.spanId);
    const enqueue = spans.find((s) => s.kind === "PRODUCER" && s.name.startsWith("enqueue"));
    t.is(enqueue?.parentSpanId, placeTurn.spanId, "the enqueue is a child of the turn that made it");
    const job = spans.find(
      (s) => s.kind === "CONSUMER" && s.name.startsWith("process") && s.name.includes("Billing"),
    );
    t.is(job?.parentSpanId, enqueue?.spanId, "the job's processing continues the producer's context");
    const chargeTurn = only(spans, "process Billing.charge", "SERVER");
    const publish = spans.find((s) => s.kind === "PRODUCER" && s.name.startsWith("publish"));
    t.truthy(publish);
    const event = spans.find((s) => s.kind === "CONSUMER" && s.name === "process invoices.issued");
    t.is(event?.parentSpanId, publish?.spanId, "the event's processing continues the publisher's context");
    const deliverTurn = only(spans, "process Mailbox.deliver", "SERVER");
    const deliverCall = only(spans, "call Mailbox.deliver", "CLIENT");
    t.is(deliverTurn.parentSpanId, deliverCall.spanId);
    // Every hop of the flow shares the root's trace id (spansOfTrace filtered on it).
    t.true(spans.length >= 10, `${spans.length} spans in the trace`);
    t.truthy(chargeTurn);
  },
);

test.serial("flow - a retried job's later attempt links to the context it was enqueued with", async (t) => {
  const tm = await TestMesh.start({ types, host: { jobs: { initialDelayMs: 10, maxAttempts: 3 } } });
  t.teardown(() => tm.close());
  failFirstBilling = true;
  const jobId = await tm.ref(Orders, "o2").place("order-2", 7);
  await tm.client.job(jobId).result({ timeoutMs: 30_000 });
  await otel.telemetry.forceFlush();
  const spans = await otel.receiver.waitForSpans(
    (all) =>
      all.filter((s) => s.kind === "CONSUMER" && s.attributes["messaging.message.id"] === jobId).length >= 2,
    30_000,
  );
  const attempts = spans
    .filter((s) => s.kind === "CONSUMER" && s.attributes["messaging.message.id"] === jobId)
    .sort(
      (a, b) =>
        Number(a.attributes["troupe.delivery.attempt"]) - Number(b.attributes["troupe.delivery.attempt"]),
    );
  const [firstAttempt, retry] = attempts;
  t.is(firstAttempt?.attributes["troupe.delivery.attempt"], 1);
  t.is(retry?.attributes["troupe.delivery.attempt"], 2);
  t.true(
    (retry?.links ?? []).some((l) => l.traceId === firstAttempt?.traceId),
    "the redelivery links back to the trace of the first attempt",
  );
  t.is(firstAttempt?.status.code, "ERROR");
});
