#!/usr/bin/env node
// Artificial CPU load for checking that tests hold on a busy machine: one busy-looping process per
// core. Without a command it stops after --seconds (default 600) or when the process that started
// it exits. Given a command after `--`, it burns until that command ends, however long it takes
// (--seconds, if given, only ends the burning earlier), and exits with the command's code.
//
//   node scripts/cpu-burn.mjs                          burn every core for 10 minutes
//   node scripts/cpu-burn.mjs --seconds 60 --procs 1   one core for a minute
//   node scripts/cpu-burn.mjs -- npm test              run the suite beside a burner per core
//
// Plain Node, no dependencies. Each burner spins in slices of 50 ms and yields between them, so it
// notices at once that it should stop; none outlives its parent by more than a second.
import { fork, spawn } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";

const SLICE_MS = 50;
const WATCH_MS = 1000;

if (process.argv[2] === "--burner") burn(Number(process.argv[3]));
else main(process.argv.slice(2));

function usage(message) {
  if (message) console.error(`cpu-burn: ${message}`);
  console.error("usage: node scripts/cpu-burn.mjs [--seconds N] [--procs N] [-- command args...]");
  process.exit(2);
}

function main(args) {
  const dash = args.indexOf("--");
  const command = dash >= 0 ? args.slice(dash + 1) : [];
  const own = dash >= 0 ? args.slice(0, dash) : args;
  let seconds;
  let procs = os.availableParallelism?.() ?? os.cpus().length;
  for (let i = 0; i < own.length; i++) {
    const value = Number(own[i + 1]);
    if (own[i] === "--seconds") seconds = value;
    else if (own[i] === "--procs") procs = value;
    else usage(`unknown argument ${own[i]}`);
    i++;
  }
  if (seconds !== undefined && !(seconds > 0)) usage("--seconds must be a positive number");
  if (!(Number.isInteger(procs) && procs >= 1)) usage("--procs must be a positive integer");
  if (dash >= 0 && command.length === 0) usage("no command after --");

  // With a command and no --seconds: no time limit (0); the command's end stops the burners.
  if (seconds === undefined && dash < 0) seconds = 600;
  const until = seconds === undefined ? 0 : Date.now() + seconds * 1000;
  const burners = Array.from({ length: procs }, () =>
    fork(fileURLToPath(import.meta.url), ["--burner", String(until)], { stdio: "ignore" }),
  );
  console.error(
    `cpu-burn: ${procs} busy process(es) ${seconds === undefined ? "until the command ends" : `for up to ${seconds} s`} (pids ${burners.map((b) => b.pid).join(" ")})`,
  );

  let stopped = false;
  const stop = (code) => {
    if (stopped) return;
    stopped = true;
    for (const b of burners) if (b.exitCode === null) b.kill("SIGKILL");
    process.exit(code);
  };
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  // Without a command the time limit ends the run; with one, it only ends the burning: the command
  // goes on and its exit code is ours (a wrapper that exited first would orphan the command).
  if (seconds !== undefined) {
    setTimeout(() => {
      if (command.length === 0) stop(0);
      else for (const b of burners) if (b.exitCode === null) b.kill("SIGKILL");
    }, seconds * 1000).unref();
  }

  // The process that started us went away (we were re-parented): stop too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop(0);
  }, WATCH_MS);

  if (command.length > 0) {
    const child = spawn(command[0], command.slice(1), { stdio: "inherit" });
    child.on("exit", (code, signal) => stop(signal ? 1 : (code ?? 1)));
    child.on("error", (err) => {
      console.error(`cpu-burn: cannot run ${command[0]}: ${err.message}`);
      stop(127);
    });
  } else {
    // Keep running (the interval above holds the event loop) until a stop condition.
    for (const b of burners) b.on("exit", () => burners.every((x) => x.exitCode !== null) && stop(0));
  }
}

function burn(until) {
  const parent = process.ppid;
  process.on("disconnect", () => process.exit(0));
  let sink = 0;
  const slice = () => {
    if ((until > 0 && Date.now() >= until) || process.ppid !== parent) process.exit(0);
    const end = performance.now() + SLICE_MS;
    while (performance.now() < end) sink = (sink + Math.sqrt(sink + 1)) % 1e9;
    setImmediate(slice);
  };
  slice();
}
