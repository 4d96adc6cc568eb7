/**
 * How the `troupe` process ends once a command has finished. Normally it ends by itself: every
 * command closes what it opened, and Node exits when nothing is left. If something still holds the
 * process open after that (a timer or socket a library left behind, which is a bug), a user's
 * terminal or a CI job must not hang on it: after `graceMs` the process says what was still open
 * and exits with the command's code anyway.
 *
 * @example
 * ```ts
 * exitWhenDone(await main(process.argv.slice(2)));
 * ```
 */

/** How long a finished command may take to let go of its last handles before it is made to exit. */
export const EXIT_GRACE_MS = 5_000;

export function exitWhenDone(
  code: number,
  options: { graceMs?: number; err?: (line: string) => void } = {},
): void {
  process.exitCode = code;
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const timer = setTimeout(() => {
    err(
      `troupe: still running ${options.graceMs ?? EXIT_GRACE_MS} ms after the command finished ` +
        `(still open: ${describeOpen()}); exiting with code ${code}`,
    );
    process.exit(code);
  }, options.graceMs ?? EXIT_GRACE_MS);
  // Never the reason the process stays: it only fires when something else keeps it running.
  timer.unref();
}

/** "Timeout ×2, TCPWrap": what keeps the event loop alive, counted by kind (unref'd timers are not listed). */
function describeOpen(): string {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind));
  return parts.length > 0 ? parts.join(", ") : "nothing Node reports";
}
