/**
 * Worker side of `--profile-window`: V8's sampling profiler over one measured window only, so a
 * row's own work is not drowned by module loading and JIT warm-up the way `--cpu-prof` (the
 * process's whole life) drowns it.
 */
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";

let session: Session | undefined;
let starting: Promise<void> | undefined;

/** Starts profiling `delayMs` from now (the window's warm-up left out). */
export function startWindowProfile(a: { delayMs?: number }): void {
  if (starting) throw new Error("a window profile is already running");
  const s = new Session();
  s.connect();
  session = s;
  starting = new Promise<void>((resolve) => setTimeout(resolve, a.delayMs ?? 0)).then(async () => {
    await s.post("Profiler.enable");
    await s.post("Profiler.setSamplingInterval", { interval: 200 });
    await s.post("Profiler.start");
  });
}

/** Stops the profiler and writes the `.cpuprofile` to `file`. */
export async function stopWindowProfile(a: { file: string }): Promise<void> {
  const s = session;
  if (!s || !starting) throw new Error("no window profile is running");
  await starting;
  const { profile } = await s.post("Profiler.stop");
  s.disconnect();
  session = undefined;
  starting = undefined;
  await writeFile(a.file, JSON.stringify(profile));
}
