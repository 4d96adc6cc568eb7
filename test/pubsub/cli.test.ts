/** `troupe publish` and `troupe subs` against a real nats-server. */
import test from "ava";
import { UsageError } from "../../runtime/cli/args.js";
import { publishCommand, subsCommand } from "../../runtime/cli/pubsub.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { PaidBigOrders } from "./fixtures/actors.js";
import { hostSubscribers } from "./helpers.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

test("pubsub cli - publish, subs ls and subs tail", async (t) => {
  const fx = await startMesh(t);
  await hostSubscribers(t, fx.mesh, [PaidBigOrders]);
  const tailed = io();
  let stop: () => void = () => undefined;
  const tail = subsCommand(["tail", "orders.>", "--filter", "amount > 100", "--count", "1"], fx.mesh, {
    ...tailed.io,
    interrupted: new Promise<void>((r) => {
      stop = r;
    }),
  });
  t.teardown(() => stop());
  const p = io();
  t.is(
    await publishCommand(["orders.created", '{"id":"c1","amount":5}', "--msg-id", "c1"], fx.mesh, p.io),
    0,
  );
  t.is(
    await publishCommand(["orders.created", '{"id":"c1","amount":5}', "--msg-id", "c1"], fx.mesh, p.io),
    0,
  );
  t.regex(p.out[0] ?? "", /stored as \d+/);
  t.regex(p.out[1] ?? "", /duplicate/);
  t.is(await publishCommand(["orders.*", "{}"], fx.mesh, p.io).catch(() => 1), 1);
  // A wrong invocation throws UsageError: `troupe` prints its line and the usage, exit 2.
  await t.throwsAsync(publishCommand(["orders.created"], fx.mesh, p.io), {
    instanceOf: UsageError,
    message: /expected <topic> <json>/,
  });
  // The tail subscribes asynchronously: publish (ephemeral) until it has printed one event.
  let tailed1 = false;
  void tail.then(() => {
    tailed1 = true;
  });
  while (!tailed1) {
    await publishCommand(["orders.created", '{"id":"c2","amount":500}', "--ephemeral"], fx.mesh, p.io);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(await tail, 0);
  t.deepEqual(JSON.parse(tailed.out[0] ?? "{}"), {
    topic: "orders.created",
    event: { id: "c2", amount: 500 },
  });
  const ls = io();
  await eventually(async () => {
    ls.out.length = 0;
    await subsCommand(["ls", "-o", "json"], fx.mesh, ls.io);
    const rows = JSON.parse(ls.out[0] ?? "[]") as { name: string; pending: number; ackPending: number }[];
    return rows.length === 1 && rows[0]?.pending === 0 && rows[0]?.ackPending === 0;
  });
  const [row] = JSON.parse(ls.out[0] ?? "[]") as Record<string, unknown>[];
  t.like(row, {
    name: "PaidBigOrders_onPaid",
    type: "PaidBigOrders",
    method: "onPaid",
    pattern: "orders.>",
    filter: 'amount > 100 && status == "paid"',
    keyed: true,
  });
  const table = io();
  t.is(await subsCommand(["ls"], fx.mesh, table.io), 0);
  t.regex(table.out[0] ?? "", /PaidBigOrders_onPaid\s+orders\.>/);
  await t.throwsAsync(subsCommand(["nope"], fx.mesh, table.io), {
    instanceOf: UsageError,
    message: /unknown subs command "nope"/,
  });
});
