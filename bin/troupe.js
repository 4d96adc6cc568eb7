#!/usr/bin/env node
// The `troupe` command. From a published package it runs the compiled CLI in dist/; in a checkout
// of the repository (no dist/) it runs the TypeScript sources through tsx, re-executing Node once
// with the `troupe-source` export condition so that `import "troupe"` resolves to the sources.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist", "runtime", "cli", "main.js");
const fromSource = process.execArgv.includes("--conditions=troupe-source");

if (fromSource) {
  const { main, exitWhenDone } = await import(pathToFileURL(join(root, "runtime", "cli", "main.ts")).href);
  exitWhenDone(await main(process.argv.slice(2)));
} else if (existsSync(compiled) && !process.env.TROUPE_FROM_SOURCE) {
  const { main, exitWhenDone } = await import(pathToFileURL(compiled).href);
  exitWhenDone(await main(process.argv.slice(2)));
} else {
  const child = spawn(
    process.execPath,
    [
      "--conditions=troupe-source",
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: "inherit" },
  );
  // Ctrl-C reaches the child through the terminal's process group; forward other signals.
  for (const sig of ["SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  process.on("SIGINT", () => {});
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
