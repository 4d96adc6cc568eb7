/** `troupe dlq` against a real nats-server. */
import test from "ava";
import { dlq } from "../../runtime/cli/dlq.js";
import { countProgress } from "../../runtime/cli/progress.js";
import { deadLetters, enqueue, JobDeadLetteredError } from "../../runtime/jobs/index.js";
import { eventually } from "../helpers/mesh.js";
import { seen, Work } from "./fixtures/actors.js";
import { startJobs } from "./helpers.js";

test.beforeEach(() => seen.reset());

function capture() {
  const lines: string[] = [];
  const err = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { io: { out: (l: string) => lines.push(l), err }, lines };
}

test.serial("dlq cli - ls, show, replay --all and purge", async (t) => {
  const fx = await startJobs(t, { maxAttempts: 1 });
  const jobs = await Promise.all(["a", "b", "c"].map((x) => enqueue(fx.mesh, Work, x).fragile(x)));
  for (const j of jobs)
    await t.throwsAsync(j.result({ timeoutMs: 20_000 }), { instanceOf: JobDeadLetteredError });

  const ls = capture();
  t.is(await dlq(["ls", "-o", "json"], fx.mesh, ls.io), 0);
  const rows = JSON.parse(ls.lines.join("\n")) as { seq: number; reason: string; method: string }[];
  t.is(rows.length, 3);
  t.true(rows.every((r) => r.reason === "attempts-exhausted" && r.method === "fragile"));

  const table = capture();
  await dlq(["ls"], fx.mesh, table.io);
  t.regex(table.lines.join("\n"), /SEQ\s+TYPE\s+ACTOR/);

  const show = capture();
  t.is(await dlq(["show", String(rows[0]?.seq)], fx.mesh, show.io), 0);
  const shown = JSON.parse(show.lines.join("\n")) as { args: unknown[]; error: { message: string } };
  t.deepEqual(shown.args, ["a"]);
  t.regex(shown.error.message, /dependency of a is down/);

  // Purge one, replay the rest after the fix.
  const purge = capture();
  await dlq(["purge", String(rows[0]?.seq)], fx.mesh, purge.io);
  t.deepEqual(purge.lines, ["purged 1"]);
  seen.broken = false;
  // stderr is not a terminal here: plain progress lines (one per letter with progressEveryMs 0).
  const replay = capture();
  t.is(await dlq(["replay", "--all", "--rate", "100"], fx.mesh, { ...replay.io, progressEveryMs: 0 }), 0);
  t.is(replay.lines.length, 3, replay.lines.join(""));
  t.regex(replay.lines[0] ?? "", /^troupe: replaying dead letters 1\/2 \(\d+s\)\n$/);
  t.regex(replay.lines[1] ?? "", /^troupe: replaying dead letters 2\/2 \(\d+s\)\n$/);
  t.is(replay.lines[2], "replayed 2, already replayed 0, missing 0");
  await eventually(() => seen.runs.get("b") === 1 && seen.runs.get("c") === 1, 20_000, "replayed jobs ran");
  t.is(await jobs[1]?.result(), "done b");
  let left = 0;
  for await (const _ of deadLetters(fx.mesh)) left++;
  t.is(left, 0);
});

test("dlq cli - replay progress: a bar on a terminal, plain lines elsewhere, none for a replay quicker than the period", (t) => {
  const written: string[] = [];
  const stream = (isTTY: boolean) => ({ isTTY, write: (s: string) => written.push(s) });
  let bar = countProgress(stream(true), "replaying dead letters", 2);
  bar.tick();
  bar.tick();
  bar.done();
  t.deepEqual(written, [
    `\r[${"-".repeat(30)}] 0/2`,
    `\r[${"#".repeat(15)}${"-".repeat(15)}] 1/2`,
    `\r[${"#".repeat(30)}] 2/2`,
    "\n",
  ]);
  written.length = 0;
  bar = countProgress(stream(false), "replaying dead letters", 2, { everyMs: 3_600_000 });
  bar.tick();
  bar.tick();
  bar.done();
  t.deepEqual(written, [], "within the period: nothing");
});
