import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";

const exitModule = fileURLToPath(new URL("../../runtime/cli/exit.ts", import.meta.url));

/** Runs `body` in a fresh Node process after importing exitWhenDone; resolves with its exit and stderr. */
function runScript(body: string): Promise<{ code: number | null; stderr: string }> {
  const script = `import { exitWhenDone } from ${JSON.stringify(exitModule)};\n${body}`;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { timeout: 60_000 },
      (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

test("cli exit - a command that leaves a handle open still exits with its code and names what was open", async (t) => {
  const { code, stderr } = await runScript(
    "setInterval(() => {}, 1000);\nexitWhenDone(3, { graceMs: 100 });",
  );
  t.is(code, 3);
  t.regex(
    stderr,
    /^troupe: still running 100 ms after the command finished \(still open: [^)]*\bTimeout\b[^)]*\); exiting with code 3$/m,
  );
});

test("cli exit - a command that closed everything exits by itself, silently, with its code", async (t) => {
  // A grace far beyond the test's own timeout: only a natural exit can end this process in time.
  const { code, stderr } = await runScript("exitWhenDone(4, { graceMs: 3_600_000 });");
  t.is(code, 4);
  t.is(stderr, "");
});
