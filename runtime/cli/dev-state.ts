/**
 * Where `troupe dev` leaves the address of its embedded NATS server, so that `troupe call` from
 * another shell finds the running mesh without any configuration.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface DevState {
  url: string;
  pid: number;
  prefix: string;
}

export function devDir(cwd = process.cwd()): string {
  return process.env.TROUPE_DEV_DIR ?? join(cwd, ".troupe");
}

export async function writeDevState(state: DevState, dir = devDir()): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "dev.json"), `${JSON.stringify(state, null, 2)}\n`);
}

export async function clearDevState(dir = devDir()): Promise<void> {
  await rm(join(dir, "dev.json"), { force: true });
}

/** The running dev mesh, if its process is still alive. */
export async function readDevState(dir = devDir()): Promise<DevState | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(dir, "dev.json"), "utf8");
  } catch {
    return undefined; // no dev mesh was started from this folder
  }
  const state = JSON.parse(raw) as DevState;
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined; // left over from a dev mesh that is gone
  }
}
