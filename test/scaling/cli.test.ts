import test from "ava";
import { scaleCommand } from "../../runtime/cli/scale.js";

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await scaleCommand(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
};

test("scale cli - a wrong invocation prints one line and the usage, exit 2, no stack trace", async (t) => {
  for (const argv of [[], ["bogus"], ["status", "--nope"], ["run", "--interval-ms", "5"]]) {
    const r = await run(argv);
    t.is(r.code, 2, argv.join(" "));
    t.regex(r.err, /^troupe scale: .+\n\nUsage: troupe scale/);
    t.notRegex(r.err, /\n\s+at /);
  }
  const help = await run(["help"]);
  t.is(help.code, 0);
  t.regex(help.out, /Usage: troupe scale/);
});
