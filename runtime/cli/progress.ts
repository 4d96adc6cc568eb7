/**
 * Progress for anything the CLI waits on for more than a second, on stderr, so that a wait is
 * never silent whether or not stderr is a terminal:
 *
 * - {@link whileWaiting} (a call waiting for a host, a drain): nothing if the work ends within
 *   `afterMs`, then `troupe: <label>... 3s`, redrawn in place every second on a terminal, or one
 *   line `troupe: <label>... (3s)` every `everyMs` otherwise (logs, CI).
 * - {@link countProgress} (a DLQ replay of n letters): a bar `[####------] 12/40` redrawn in place
 *   on a terminal; otherwise one line `troupe: <label> 12/40 (5s)` once `everyMs` has passed since
 *   the start or the last line, checked at each step.
 *
 * ```ts
 * const result = await whileWaiting(io, `calling ${type}/${id}.${method}`, mesh.callByName(...));
 * const bar = countProgress(process.stderr, "replaying dead letters", seqs.length);
 * for (const seq of seqs) { await replay(seq); bar.tick(); }
 * bar.done();
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

/** Where {@link countProgress} writes: a stream that may be a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Progress through `total` steps: call `tick()` after each, `done()` at the end (see the header). */
export function countProgress(
  stream: ProgressStream,
  label: string,
  total: number,
  options: Pick<ProgressOptions, "everyMs"> = {},
): { tick(): void; done(): void } {
  const tty = stream.isTTY === true;
  const everyMs = options.everyMs ?? 5000;
  const started = performance.now();
  let lastLine = started;
  let n = 0;
  const draw = () => {
    if (total === 0) return;
    if (tty) {
      const width = 30;
      const filled = Math.round((n / total) * width);
      stream.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${n}/${total}`);
      return;
    }
    const now = performance.now();
    if (n === 0 || now - lastLine < everyMs) return;
    lastLine = now;
    stream.write(`troupe: ${label} ${n}/${total} (${Math.round((now - started) / 1000)}s)\n`);
  };
  draw();
  return {
    tick: () => {
      n++;
      draw();
    },
    done: () => {
      if (tty && total > 0) stream.write("\n");
    },
  };
}
