import test from "ava";
import {
  compileGlobs,
  compileMatch,
  InvalidPolicyError,
  validatePolicy,
} from "../../runtime/throttling/index.js";

test("policies - validation fills defaults and names the wrong field", (t) => {
  const p = validatePolicy({ name: "p1", limit: { ratePerSecond: 2.5 } });
  t.is(p.limit?.burst, 3);
  t.is(p.keyBy, "KEY_BY_NONE");
  t.deepEqual(p.match?.hops, []);
  const bad: [unknown, string][] = [
    [null, "policy"],
    [{ name: "", limit: { ratePerSecond: 1 } }, "name"],
    [{ name: "a".repeat(65), limit: { ratePerSecond: 1 } }, "name"],
    [{ name: "x", limit: { ratePerSecond: 1e12 } }, "limit.rate_per_second"],
    [{ name: "x", limit: { maxConcurrency: 1.5 } }, "limit.max_concurrency"],
    [{ name: "x", limit: { ratePerSecond: "5" } }, "limit.rate_per_second"],
    [{ name: "x", match: { callers: "alice" }, limit: { ratePerSecond: 1 } }, "match.callers"],
    [{ name: "x", match: { tenants: Array(101).fill("t") }, limit: { ratePerSecond: 1 } }, "match.tenants"],
    [{ name: "x", keyBy: "KEY_BY_MOON", limit: { ratePerSecond: 1 } }, "key_by"],
  ];
  for (const [raw, field] of bad) {
    const err = t.throws(() => validatePolicy(raw), { instanceOf: InvalidPolicyError });
    t.is(err?.field, field, JSON.stringify(raw)?.slice(0, 80));
  }
});

test("policies - globs match with * and ?, an empty list matches anything", (t) => {
  const m = compileGlobs(["get*", "list?", "a.b"]);
  t.true(m("getCart"));
  t.true(m("get"));
  t.true(m("lists"));
  t.false(m("list"));
  t.true(m("a.b"));
  t.false(m("aXb"), "dots are literal");
  t.true(compileGlobs([])("anything"));
});

test("policies - a match needs every non-empty list and the hop; key_by picks the key", (t) => {
  const policy = validatePolicy({
    name: "free",
    match: { callers: ["free-*"], actorTypes: ["Cart"], methods: ["add"] },
    limit: { ratePerSecond: 10 },
    keyBy: "KEY_BY_CALLER",
  });
  const m = compileMatch(policy);
  const input = { caller: "free-7", actorType: "Cart", method: "add", hop: "call" as const };
  t.true(m.matches(input));
  t.is(m.keyOf(input), "free-7");
  t.true(m.matches({ ...input, hop: "tell" }));
  t.false(m.matches({ ...input, hop: "job" }), "jobs only when match.hops says so");
  t.false(m.matches({ ...input, caller: "paid-1" }));
  t.false(m.matches({ ...input, caller: undefined }), "no caller: only a * entry matches");
  t.false(m.matches({ ...input, method: "checkout" }));
  const any = compileMatch(
    validatePolicy({ name: "any", match: { callers: ["*"] }, limit: { ratePerSecond: 1 } }),
  );
  t.true(any.matches({ ...input, caller: undefined }));
});

test("policy - KEY_BY_FUNCTION needs a key_function name; a key_function needs KEY_BY_FUNCTION", (t) => {
  const base = { name: "tiers", limit: { ratePerSecond: 5 } };
  const missing = t.throws(() => validatePolicy({ ...base, keyBy: "KEY_BY_FUNCTION" }), {
    instanceOf: InvalidPolicyError,
  });
  t.is(missing?.field, "key_function");
  const stray = t.throws(() => validatePolicy({ ...base, keyFunction: "tier" }), {
    instanceOf: InvalidPolicyError,
  });
  t.is(stray?.field, "key_function");
  const bad = t.throws(() => validatePolicy({ ...base, keyBy: "KEY_BY_FUNCTION", keyFunction: "Tier!" }), {
    instanceOf: InvalidPolicyError,
  });
  t.is(bad?.field, "key_function");
  t.is(validatePolicy({ ...base, keyBy: "KEY_BY_FUNCTION", keyFunction: "tier" }).keyFunction, "tier");
});
