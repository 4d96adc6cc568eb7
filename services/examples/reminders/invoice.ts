/**
 * Durable reminders (docs/patterns/reminders.md): an invoice that nags its customer periodically
 * until it is paid, and a one-shot "overdue" reminder that paying cancels. Reminders are stored in
 * JetStream: they wake the actor on whichever host owns it, even after it was deactivated.
 * (The periods here are fractions of a second so that the example ends quickly.)
 *
 *   node --conditions=troupe-source --import tsx services/examples/reminders/invoice.ts
 */
import { Actor, type ReminderInfo } from "troupe";
import { type Example, runIfMain } from "../jobs/setup.js";

export class Invoice extends Actor<{ paid: boolean; nagged: number; overdue: boolean }> {
  static initialState = () => ({ paid: false, nagged: 0, overdue: false });

  async open(nagEveryMs: number, dueInMs: number): Promise<void> {
    await this.remind("nag", { everyMs: nagEveryMs }); // periodic
    await this.remind("overdue", { at: Date.now() + dueInMs }); // one-shot
  }

  async pay(): Promise<number> {
    this.state.paid = true;
    await this.unremind("nag");
    await this.unremind("overdue");
    return this.state.nagged;
  }

  async status(): Promise<{ paid: boolean; nagged: number; overdue: boolean }> {
    return { ...this.state };
  }

  /** Every reminder of this type arrives here, as a turn of the actor (state saved after it). */
  async receiveReminder(name: string, _info: ReminderInfo): Promise<void> {
    if (this.state.paid) return;
    if (name === "nag") this.state.nagged++;
    if (name === "overdue") this.state.overdue = true;
  }
}

export const remindersExample: Example = async (mesh, log) => {
  const host = await mesh.host([Invoice]);
  try {
    const invoice = mesh.ref(Invoice, "inv-42");
    await invoice.open(200, 60_000);
    // Wait for two nags (reminders fire on their own; poll the actor's state).
    while ((await invoice.status()).nagged < 2) await new Promise((r) => setTimeout(r, 100));
    const nagged = await invoice.pay();
    log(`paid after ${nagged} reminders`);
    const after = await invoice.status();
    log(`overdue: ${after.overdue}, paid: ${after.paid}`);
  } finally {
    await host.drain();
  }
};

await runIfMain(import.meta.url, remindersExample);
