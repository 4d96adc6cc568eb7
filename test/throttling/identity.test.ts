/**
 * Attested identity for throttle policies: the user a reply subject names (`_INBOX_<user>.…`),
 * matched by `match.users` and counted by KEY_BY_USER; a self-asserted caller keyed by caller on
 * an attested turn counts under `<user>/<caller>`, never under another user's key.
 */
import test from "ava";
import { inboxUserOf, qualifiedCaller } from "../../runtime/messaging/index.js";
import { compileMatch, validatePolicy } from "../../runtime/throttling/index.js";

test("inbox user - the user of a per-user inbox prefix; none for the default prefix or an unfit name", (t) => {
  t.is(inboxUserOf("_INBOX_troupe-client-web.ab12.7"), "troupe-client-web");
  t.is(inboxUserOf("_INBOX_troupe-host.x"), "troupe-host");
  for (const none of [
    undefined,
    "",
    "_INBOX.ab12.7",
    "_INBOX_.x",
    "_INBOX_a/b.x",
    "_INBOX_web",
    "x._INBOX_a.b",
  ]) {
    t.is(inboxUserOf(none), undefined, String(none));
  }
  t.is(inboxUserOf(`_INBOX_${"u".repeat(129)}.x`), undefined, "too long");
  t.is(qualifiedCaller("web", "alice"), "web/alice");
  t.is(qualifiedCaller("web", undefined), "web");
  t.is(qualifiedCaller(undefined, "alice"), "alice");
});

test("match - users globs match the attested user only; a self-asserted caller does not stand in for it", (t) => {
  const policy = validatePolicy({
    name: "web",
    match: { users: ["troupe-client-web"] },
    limit: { ratePerSecond: 1 },
  });
  const m = compileMatch(policy);
  const turn = { actorType: "Echo", method: "echo", hop: "call" as const };
  t.true(m.matches({ ...turn, user: "troupe-client-web" }));
  t.true(m.matches({ ...turn, user: "troupe-client-web", caller: "pretends-to-be-batch" }));
  t.false(m.matches({ ...turn, user: "troupe-client-batch", caller: "troupe-client-web" }));
  t.false(m.matches({ ...turn, caller: "troupe-client-web" }), "no attested user: only a * entry matches");
  const any = compileMatch(
    validatePolicy({ name: "any", match: { users: ["*"] }, limit: { ratePerSecond: 1 } }),
  );
  t.true(any.matches({ ...turn }));
});

test("match - KEY_BY_USER counts per user; KEY_BY_CALLER on an attested turn counts <user>/<caller>", (t) => {
  const turn = { actorType: "Echo", method: "echo", hop: "tell" as const };
  const byUser = compileMatch(
    validatePolicy({ name: "u", keyBy: "KEY_BY_USER", limit: { ratePerSecond: 1 } }),
  );
  t.is(byUser.keyOf({ ...turn, user: "troupe-client-web", caller: "x" }), "troupe-client-web");
  t.is(byUser.keyOf({ ...turn, caller: "x" }), "");
  const byCaller = compileMatch(
    validatePolicy({ name: "c", keyBy: "KEY_BY_CALLER", limit: { ratePerSecond: 1 } }),
  );
  t.is(byCaller.keyOf({ ...turn, user: "troupe-client-web", caller: "alice" }), "troupe-client-web/alice");
  t.is(
    byCaller.keyOf({ ...turn, user: "troupe-client-batch", caller: "alice" }),
    "troupe-client-batch/alice",
  );
  t.is(byCaller.keyOf({ ...turn, user: "troupe-client-web" }), "troupe-client-web");
  t.is(byCaller.keyOf({ ...turn, caller: "alice" }), "alice", "no attested user: the caller as sent");
});

test("policy - users is validated like the other glob lists", (t) => {
  const err = t.throws(() =>
    validatePolicy({ name: "bad", match: { users: [""] }, limit: { ratePerSecond: 1 } }),
  );
  t.regex(err?.message ?? "", /match\.users\[0\]/);
});
