/** The filter expression language (no NATS). */
import test from "ava";
import { ConfigurationError } from "troupe";
import { compileFilter, topicMatches } from "../../runtime/pubsub/index.js";

const order = {
  amount: 120,
  status: "paid",
  customer: { tier: "gold" },
  items: [{ sku: "tea" }],
  note: null,
};

test("filter - comparisons, logic, paths, lists", (t) => {
  const yes = [
    'amount > 100 && status == "paid"',
    "amount >= 120 && amount <= 120",
    "customer.tier in ['gold', 'platinum']",
    'items[0].sku == "tea"',
    'customer["tier"] == "gold"',
    "note == null && missing == null && !missing",
    '!(status == "open") || amount < 0',
    "amount > -5",
    "status",
  ];
  const no = [
    "amount > 120",
    'status != "paid"',
    'amount > "100"',
    "missing > 1",
    "items[1].sku == 'tea'",
    "constructor == null && toString",
    "customer.tier in []",
  ];
  for (const e of yes) t.true(compileFilter(e)(order), e);
  for (const e of no) t.false(compileFilter(e)(order), e);
});

test("filter - syntax errors are ConfigurationErrors with a position", (t) => {
  for (const bad of ["", "amount >", "(amount > 1", "amount > 1 extra", 'status == "x', "a in 3", "a # b"]) {
    t.throws(() => compileFilter(bad), { instanceOf: ConfigurationError }, bad);
  }
  t.throws(() => compileFilter("!".repeat(200) + "a"), { instanceOf: ConfigurationError });
});

test("filter - topic patterns match like NATS subjects", (t) => {
  t.true(topicMatches("orders.*", "orders.created"));
  t.false(topicMatches("orders.*", "orders.created.eu"));
  t.true(topicMatches("orders.>", "orders.created.eu"));
  t.false(topicMatches("orders.>", "orders"));
});
