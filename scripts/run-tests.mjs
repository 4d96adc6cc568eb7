#!/usr/bin/env node
// Runs ava (arguments pass through) and ends with one plain summary line, `tests: N passed, N failed`,
// that CI systems read regardless of the test runner. The exit code is ava's.
import { spawn } from "node:child_process";

import { fileURLToPath } from "node:url";

const avaCli = fileURLToPath(new URL("../node_modules/ava/entrypoints/cli.mjs", import.meta.url));

const child = spawn(process.execPath, [avaCli, ...process.argv.slice(2)], {
  stdio: ["ignore", "pipe", "pipe"],
  env: process.env,
});
let text = "";
const collect = (chunk) => {
  text += chunk.toString("utf8");
  if (text.length > 1_000_000) text = text.slice(-200_000); // the summary is at the end
};
child.stdout.on("data", (c) => {
  process.stdout.write(c);
  collect(c);
});
child.stderr.on("data", (c) => {
  process.stderr.write(c);
  collect(c);
});
child.on("close", (code, signal) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
  const count = (re) => {
    const m = plain.match(re);
    return m ? Number(m[1]) : 0;
  };
  // On failure ava prints no "N tests passed" line: count the ✔ lines of passing tests instead.
  const ticks = (plain.match(/^\s*✔ /gm) ?? []).length;
  const passed = Math.max(count(/^\s*(\d+) tests? passed/m), ticks);
  const failed =
    count(/^\s*(\d+) tests? failed/m) +
    count(/^\s*(\d+) uncaught exceptions?/m) +
    count(/^\s*(\d+) unhandled rejections?/m) +
    count(/^\s*(\d+) tests? remained pending/m) +
    count(/^\s*(\d+) tests? timed out/m) +
    (code !== 0 && !/tests? failed/.test(plain) ? 1 : 0);
  const skipped = count(/^\s*(\d+) tests? skipped/m) + count(/^\s*(\d+) tests? todo/m);
  process.stdout.write(
    `\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`,
  );
  process.exit(signal ? 1 : (code ?? 1));
});
