/**
 * The README's first-actor steps are what `troupe init` writes and what the scaffold test runs:
 * its two files and its test are the templates, character for character, and every command it
 * shows for the new project is a script of that project (scaffold.test.ts runs them).
 */
import { readFileSync } from "node:fs";
import test from "ava";
import { CLIENT_TS, COUNTER_TEST_TS, COUNTER_TS, packageJson } from "../../runtime/cli/init-templates.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The fenced blocks of one `## ` section. */
function blocks(section: string): string[] {
  const start = readme.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`README has no section "${section}"`);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

test("readme - the first actor's two files are the ones troupe init writes", (t) => {
  const [counter, client] = blocks("Your first actor");
  t.is(counter, COUNTER_TS);
  t.is(client, CLIENT_TS);
});

test("readme - the test it shows is the new project's test", (t) => {
  t.is(blocks("Testing your actors")[0], COUNTER_TEST_TS);
});

test("readme - every npm command it shows for a new project is a script of that project", (t) => {
  const scripts = Object.keys(
    (JSON.parse(packageJson({ name: "x", troupe: "*" })) as { scripts: object }).scripts,
  );
  const commands = blocks("Your own project").join("\n");
  const used = [...commands.matchAll(/npm run (\S+)/g)].map((m) => m[1] as string);
  t.true(used.length >= 3);
  for (const name of used) t.true(scripts.includes(name), `npm run ${name}`);
  t.regex(commands, /npm test/);
  t.regex(commands, /npx ava test\/counter\.test\.ts/);
  t.regex(commands, /troupe\.js init \.\.\/my-app --troupe troupe-0\.1\.0\.tgz/);
});
