/**
 * Load leveling: a burst of 200 jobs meets a worker that handles 4 at a time. The queue absorbs
 * the burst; the runner pulls only what it has capacity for; nothing is refused as "too busy".
 *
 *   node --conditions=troupe-source --import tsx services/examples/jobs/load-leveling.ts
 */
import { Actor } from "troupe";
import { type Example, runIfMain } from "./setup.js";

let running = 0;
let peak = 0;

export class Thumbnailer extends Actor {
  static options = { stateless: true };

  async render(image: string): Promise<string> {
    running++;
    peak = Math.max(peak, running);
    try {
      await new Promise((r) => setTimeout(r, 10));
      return `thumb-of-${image}`;
    } finally {
      running--;
    }
  }
}

export const loadLeveling: Example = async (mesh, log) => {
  const capacity = 4;
  const host = await mesh.host([Thumbnailer], { jobs: { capacity: { Thumbnailer: capacity } } });
  try {
    const jobs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => mesh.enqueue(Thumbnailer, `img-${i}`).render(`img-${i}.png`)),
    );
    log(`200 jobs stored; the host's runner holds at most ${capacity}`);
    await Promise.all(jobs.map((j) => j.result({ timeoutMs: 60_000 })));
    log(`all done; at most ${peak} ran at once`);
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, loadLeveling);
