import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";
import { onLines } from "../helpers/lines.js";

const testing = fileURLToPath(new URL("../../runtime/testing/index.ts", import.meta.url));

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("orphan guard - a nats-server outlives no SIGKILL of its parent's whole process group", async (t) => {
  // A parent in its own process group starts a nats-server (which runs in a group of its own), prints
  // the server's pid, and waits. Then the parent's group is killed as a test teardown or `kill -9
  // -pgid` does: nothing runs in the parent, so only the watchdog process can stop the server.
  const script = `import { startNatsServer } from ${JSON.stringify(testing)};
const server = await startNatsServer({ jetstream: false });
console.log("server pid " + server.pid);
setInterval(() => {}, 1000);`;
  const parent = spawn(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", "--input-type=module", "-e", script],
    { detached: true, stdio: ["ignore", "pipe", "inherit"] },
  );
  t.teardown(() => {
    try {
      process.kill(-(parent.pid as number), "SIGKILL");
    } catch {
      // gone
    }
  });
  const serverPid = await new Promise<number>((resolve, reject) => {
    onLines(parent.stdout, (line) => {
      const m = /^server pid (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    parent.on("exit", (code) => reject(new Error(`the parent exited (${code}) before starting a server`)));
  });
  t.teardown(() => {
    if (alive(serverPid)) process.kill(serverPid, "SIGKILL");
  });
  t.true(alive(serverPid));

  process.kill(-(parent.pid as number), "SIGKILL");
  // The watchdog sees its stdin close and kills the server: wait for that, bounded by the test timeout.
  while (alive(serverPid)) await new Promise((r) => setTimeout(r, 50));
  t.false(alive(serverPid));
});
