/**
 * The README's first-actor steps are what `troupe init` writes and what the scaffold test runs:
 * its two files and its test are the templates, character for character, and every command it
 * shows for the new project is a script of that project (scaffold.test.ts runs them).
 */
import test from "ava";
import { CLIENT_TS, COUNTER_TEST_TS, COUNTER_TS, packageJson } from "../../runtime/cli/init-templates.js";
import { packageVersion } from "../../runtime/cli/version.js";
import { readmeBlocks as blocks, commandLines, withoutComment } from "./readme-blocks.js";

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
});

test("readme - the setup commands scaffold.test.ts runs: the tarball npm pack writes, then the project's dev mesh", (t) => {
  const [setup, project] = blocks("Your own project", "sh").map(commandLines);
  t.is(setup?.length, 2);
  const pack = withoutComment(setup?.[0] ?? "");
  t.is(pack, `npm pack && node bin/troupe.js init ../my-app --troupe troupe-${packageVersion()}.tgz`);
  t.is(withoutComment(setup?.[1] ?? ""), "cd ../my-app && npm run dev");
  // The project's own block starts with the command the setup already left running there.
  t.is(withoutComment(project?.[0] ?? ""), "npm run dev");
});
