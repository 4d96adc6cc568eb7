/**
 * A bench worker process: `node --conditions=troupe-source --import tsx bench/worker.ts <role>`,
 * spawned by bench/run.ts with an IPC channel. It runs whatever commands the parent sends (host
 * actor types, serve a raw responder, run a measured loop...) and exits when told to or when the
 * parent goes away. `<role>` only names the process (logs, connection names, profiles).
 */
import { getHeapStatistics } from "node:v8";
import type { Host, HostOptions } from "troupe";
import { BENCH_ACTORS } from "./lib/actors.js";
import { selfUsage } from "./lib/cpu.js";
import { type CommandTable, serveCommands } from "./lib/ipc.js";
import { startWindowProfile, stopWindowProfile } from "./lib/window-profile.js";
import { closeAll, mesh, setEnv, type WorkerEnv } from "./lib/worker-env.js";
import type { HeapReading } from "./scenarios/idle-memory.js";
import { SCENARIOS } from "./scenarios/index.js";

let host: Host | undefined;

const common: CommandTable = {
  init: (a: WorkerEnv) => setEnv(a),
  /** Hosts the named bench actor types in this process. */
  host: async (a: { types: string[]; options?: HostOptions }) => {
    const classes = a.types.map((name) => {
      const cls = BENCH_ACTORS[name];
      if (!cls) throw new Error(`no bench actor type ${name}`);
      return cls;
    });
    host = await (await mesh()).host(classes, a.options);
  },
  hostStats: () => host?.stats() ?? {},
  /** Names of the throttle policies the host's enforcer has shares of (none without throttling). */
  hostThrottlePolicies: () => host?.enforcer?.policies() ?? [],
  cpu: () => selfUsage(),
  "profile.start": startWindowProfile,
  "profile.stop": stopWindowProfile,
  /** Forces full GCs (needs `--expose-gc`), then reads memory usage. */
  heap: async (): Promise<HeapReading> => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("heap readings need --expose-gc");
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const m = process.memoryUsage();
    return {
      heapUsed: m.heapUsed,
      rss: m.rss,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      heapLimit: getHeapStatistics().heap_size_limit,
    };
  },
  exit: async () => {
    await closeAll();
    setImmediate(() => process.exit(0));
  },
};

const commands: CommandTable = { ...common };
for (const s of SCENARIOS) {
  for (const [name, fn] of Object.entries(s.commands)) {
    if (name in commands) throw new Error(`command ${name} defined twice`);
    commands[name] = fn;
  }
}
serveCommands(commands);
