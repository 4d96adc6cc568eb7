/** Calls `f` with each non-empty line a child process writes to `stream`. */
export function onLines(stream: NodeJS.ReadableStream | null, f: (line: string) => void): void {
  let buf = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) f(line);
    }
  });
}
