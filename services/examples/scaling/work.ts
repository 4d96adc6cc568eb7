/**
 * The competing-consumers example (docs/patterns/competing-consumers.md): a stateless worker whose
 * jobs wait ~50 ms (I/O, not CPU), hosted by `troupe scale run services/examples/scaling/work.ts`.
 * Each run appends `<id> <pid>` to the file named by WORK_LOG, when set, so a test can count runs
 * and duplicates across host processes, and tell which host ran each.
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Actor } from "troupe";

export class Work extends Actor {
  static options = { stateless: true };

  async run(id: string, ms = 50): Promise<void> {
    await sleep(ms);
    const log = process.env.WORK_LOG;
    if (log) appendFileSync(log, `${id} ${process.pid}\n`);
  }
}
