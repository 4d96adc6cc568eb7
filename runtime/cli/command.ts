/**
 * What a `troupe` sub-command is: a name, a one-line summary for `troupe help`, its usage (printed
 * with every mistake and by `troupe <name> --help`), and `run(argv)` returning the exit code.
 * main.ts keeps them in one table; adding a command is one line there:
 *
 * ```ts
 * { name: "scale", summary: "Scaling recommendations per actor type", usage: SCALE_USAGE, run: scaleCommand },
 * ```
 *
 * A command reports a wrong invocation by throwing `UsageError` (args.ts); Node's
 * `ERR_PARSE_ARGS_*` errors from `util.parseArgs` are turned into the same. Either way the user sees
 * one line saying what is wrong, then the usage of that command only, and the exit code is 2.
 */
export interface CliIo {
  /** Standard output: results (JSON, tables). */
  out(text: string): void;
  /** Standard error: errors, progress, hints. */
  err(text: string): void;
  /** Whether stderr is a terminal (progress lines redraw in place). */
  readonly errIsTty?: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  get errIsTty() {
    return process.stderr.isTTY === true;
  },
};

export interface CliCommand {
  /** The word after `troupe`. */
  readonly name: string;
  /** One line for `troupe help`. */
  readonly summary: string;
  /** `Usage: troupe <name> ...` and its options; printed after every mistake. */
  readonly usage: string;
  /** Runs the command; resolves with the exit code (0 ok, 1 failed, 2 wrong invocation). */
  run(argv: string[], io: CliIo): Promise<number>;
}
