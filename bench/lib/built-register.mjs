// `--import`ed by bench workers when the bench runs with `--built DIR` (see built-hooks.mjs).
import { register } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = process.env.TROUPE_BENCH_BUILT;
if (dir) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  register("./built-hooks.mjs", import.meta.url, { data: { dir: path.resolve(dir), repo } });
}
