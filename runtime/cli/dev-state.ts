/**
 * Where `troupe dev` leaves the address of its embedded NATS server, so that `troupe call` from
 * another shell, and `connect()` with no servers in a script run from this folder, find the
 * running mesh without any configuration (the reading side is transport/servers.ts).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEV_STATE_FILE, devStateDir, runningDevMesh } from "../internal.js";

export interface DevState {
  url: string;
  pid: number;
  prefix: string;
}

export function devDir(cwd = process.cwd()): string {
  return devStateDir(cwd);
}

export async function writeDevState(state: DevState, dir = devDir()): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, DEV_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export async function clearDevState(dir = devDir()): Promise<void> {
  await rm(join(dir, DEV_STATE_FILE), { force: true });
}

/** The running dev mesh, if its process is still alive. */
export async function readDevState(dir = devDir()): Promise<DevState | undefined> {
  return runningDevMesh(dir);
}
