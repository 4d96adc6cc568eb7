/**
 * The runs the scaling example logged (`<id> <pid>` per finished run, services/examples/scaling/
 * work.ts), counted per job id, with every duplicate explained or not.
 *
 * A job may run twice only where at-least-once allows it: a host told to drain hands back (naks)
 * the jobs it has not finished within its drain timeout, or exits before its ack of a finished one
 * reached the server; either way one of the runs was on a host that was draining. A duplicate with
 * no run on a drained host has no such excuse (an ack lost on a live host, a redelivery after
 * AckWait): it is reported as unexplained.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";

export interface Run {
  readonly id: string;
  readonly pid: number;
}

export interface RunReport {
  readonly runs: readonly Run[];
  /** Distinct job ids that ran. */
  readonly ids: ReadonlySet<string>;
  /** Runs beyond the first of each id. */
  readonly duplicates: number;
  /** One line per duplicated id: its hosts, and why it could run twice. */
  readonly explained: readonly string[];
  readonly unexplained: readonly string[];
}

/** A temporary folder, removed after the test, holding an empty run log (the example's WORK_LOG). */
export function runLogDir(t: ExecutionContext, name: string): { dir: string; workLog: string } {
  const dir = mkdtempSync(path.join(tmpdir(), `troupe-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const workLog = path.join(dir, "runs.log");
  writeFileSync(workLog, "");
  return { dir, workLog };
}

export function readRuns(file: string): Run[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", pid = "0"] = line.split(" ");
      return { id, pid: Number(pid) };
    });
}

/** `drained`: pids of the hosts that were told to drain while jobs were about. */
export function reportRuns(runs: readonly Run[], drained: ReadonlySet<number>): RunReport {
  const byId = new Map<string, number[]>();
  for (const r of runs) byId.set(r.id, [...(byId.get(r.id) ?? []), r.pid]);
  const explained: string[] = [];
  const unexplained: string[] = [];
  for (const [id, pids] of byId) {
    if (pids.length < 2) continue;
    const on = `${id} ran ${pids.length} times (host pids ${pids.join(", ")})`;
    const drainedOne = pids.find((p) => drained.has(p));
    if (drainedOne !== undefined)
      explained.push(
        `${on}: host ${drainedOne} was draining; it handed the job back when its drain timeout ran out (its own turn still finished) or exited before its ack landed`,
      );
    else unexplained.push(`${on}: no run was on a draining host`);
  }
  return {
    runs,
    ids: new Set(byId.keys()),
    duplicates: runs.length - byId.size,
    explained,
    unexplained,
  };
}

/** Pids the local autoscaler's lines say it drained (`<group>: draining host pid N`). */
export function drainedPids(lines: readonly string[]): Set<number> {
  return new Set(
    lines.flatMap((l) => {
      const m = /: draining host pid (\d+)$/.exec(l);
      return m ? [Number(m[1])] : [];
    }),
  );
}
