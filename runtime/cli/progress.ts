/**
 * A progress line for anything the CLI waits on for more than a second (a call waiting for a host,
 * a drain): nothing if the work ends within `afterMs`, then `troupe: <label>... 3s` on stderr,
 * redrawn in place every second on a terminal, or one line every `everyMs` otherwise (logs, CI).
 *
 * ```ts
 * const result = await whileWaiting(io, `calling ${type}/${id}.${method}`, mesh.callByName(...));
 * ```
 */
import type { CliIo } from "./command.js";

export interface ProgressOptions {
  /** Silent until then (default 1000 ms). */
  afterMs?: number;
  /** Off a terminal: one line per this many ms (default 5000). */
  everyMs?: number;
}

export async function whileWaiting<T>(
  io: CliIo,
  label: string,
  work: Promise<T>,
  options: ProgressOptions = {},
): Promise<T> {
  const afterMs = options.afterMs ?? 1000;
  const tty = io.errIsTty === true;
  const everyMs = tty ? 1000 : (options.everyMs ?? 5000);
  const started = performance.now();
  let drawn = false;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    const seconds = Math.round((performance.now() - started) / 1000);
    if (tty) process.stderr.write(`\rtroupe: ${label}... ${seconds}s`);
    else io.err(`troupe: ${label}... (${seconds}s)`);
    drawn = true;
    timer = setTimeout(draw, everyMs);
  };
  timer = setTimeout(draw, afterMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    if (drawn && tty) process.stderr.write("\n");
  }
}
