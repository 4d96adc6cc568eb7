/** scripts/check-docs.mjs (in `npm run check`): a docs page missing from docs/README.md fails the check. */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const root = fileURLToPath(new URL("../..", import.meta.url));
const script = path.join(root, "scripts", "check-docs.mjs");

test("docs index - every page of docs/ is linked from docs/README.md, and an unlinked or broken one fails", async (t) => {
  const copy = await mkdtemp(path.join(os.tmpdir(), "troupe-docs-"));
  t.teardown(() => rm(copy, { recursive: true, force: true }));
  await cp(path.join(root, "docs"), path.join(copy, "docs"), { recursive: true });
  await cp(path.join(root, "README.md"), path.join(copy, "README.md"));
  await cp(path.join(root, "services"), path.join(copy, "services"), { recursive: true });

  const ok = spawnSync(process.execPath, [script, copy], { encoding: "utf8" });
  t.is(ok.status, 0, ok.stderr);

  await writeFile(path.join(copy, "docs", "patterns", "new-pattern.md"), "# New\n");
  await writeFile(path.join(copy, "docs", "README.md"), "# Docs\n\n[gone](gone.md)\n", { flag: "a" });
  const bad = spawnSync(process.execPath, [script, copy], { encoding: "utf8" });
  t.is(bad.status, 1);
  t.regex(bad.stderr, /check-docs: docs\/patterns\/new-pattern\.md is not linked from docs\/README\.md/);
  t.regex(bad.stderr, /check-docs: docs\/README\.md links to docs\/gone\.md, which does not exist/);
});
