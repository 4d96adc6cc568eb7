import type { Readable } from "node:stream";

/** Keeps the last lines a child process wrote, for error messages; optionally echoes them. */
export class LogTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly max: number,
    private readonly echo?: (line: string) => void,
  ) {}

  /** Follows a stream line by line until it ends. */
  follow(stream: Readable | null): void {
    if (!stream) return;
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) this.add(line);
    });
    stream.on("end", () => {
      if (partial !== "") this.add(partial);
      partial = "";
    });
  }

  /** The kept lines, oldest first, joined with newlines. */
  text(): string {
    return this.lines.join("\n");
  }

  includes(fragment: string): boolean {
    return this.lines.some((line) => line.includes(fragment));
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
    this.echo?.(line);
  }
}
