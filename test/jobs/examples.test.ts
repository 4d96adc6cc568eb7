/** The runnable examples of docs/patterns (services/examples/jobs), run in-process on a real server. */
import test from "ava";
import { deadLetterExample } from "../../services/examples/jobs/dead-letter.js";
import { loadLeveling } from "../../services/examples/jobs/load-leveling.js";
import { longRunning } from "../../services/examples/jobs/long-running.js";
import { retryExample } from "../../services/examples/jobs/retry.js";
import type { Example } from "../../services/examples/jobs/setup.js";
import { startMesh } from "../helpers/mesh.js";

const cases: [string, Example, RegExp][] = [
  ["long-running work", longRunning, /report ready: revenue 3000/],
  ["load leveling", loadLeveling, /all done; at most [1-4] ran at once/],
  ["retry", retryExample, /charged 1250 on attempt 3[\s\S]*status: charged/],
  ["dead letter", deadLetterExample, /dead-lettered after 3 attempts[\s\S]*invoice for ada: 120 EUR/],
];

for (const [name, example, expected] of cases) {
  test(`examples - ${name}`, async (t) => {
    const { mesh } = await startMesh(t);
    const lines: string[] = [];
    await example(mesh, (l) => lines.push(l));
    t.regex(lines.join("\n"), expected);
  });
}
