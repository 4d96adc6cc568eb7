/**
 * One process at a time owns an outbox directory: two writers would interleave records and forward
 * the same entries twice. The lock is a file linked into place (atomically, failing if it exists) holding the owner's pid; a
 * lock left by a process that no longer exists (killed with SIGKILL) is taken over. A pid reused by
 * an unrelated process keeps the lock held until that process ends: remove the file by hand then.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { OutboxLockedError, OutboxStoreError } from "./errors.js";

export const LOCK_FILE = "lock";

/** Directories this process holds (a second open in the same process is refused too). */
const held = new Set<string>();

/** Takes the lock of `dir`; returns the function that releases it. */
export function lockDirectory(dir: string): () => void {
  const key = path.resolve(dir);
  if (held.has(key)) {
    throw new OutboxLockedError(`the outbox at ${dir} is already open in this process`, {
      details: { path: dir, pid: process.pid },
    });
  }
  const release = takeLock(dir);
  held.add(key);
  return () => {
    held.delete(key);
    release();
  };
}

function takeLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Written aside, then linked into place: the lock never exists without its pid.
      const aside = `${file}.${process.pid}`;
      writeFileSync(aside, String(process.pid));
      try {
        linkSync(aside, file);
      } finally {
        unlinkSync(aside);
      }
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OutboxStoreError(`cannot lock the outbox at ${dir}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    const owner = lockOwner(dir);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw new OutboxLockedError(`the outbox at ${dir} is in use by process ${owner}`, {
        details: { path: dir, pid: owner },
      });
    }
    try {
      unlinkSync(file); // left by a dead process (or by this one, not released)
    } catch {
      // another process took it over first: try again
    }
  }
  throw new OutboxLockedError(`could not take the lock of the outbox at ${dir}`, { details: { path: dir } });
}

/** The pid in the lock file of `dir`, if there is one. */
export function lockOwner(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, LOCK_FILE), "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
