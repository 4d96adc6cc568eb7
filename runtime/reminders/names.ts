/**
 * Stream, subject, consumer, bucket and key names of durable reminders:
 *
 * - KV bucket `<prefix>_reminders`: the reminder definitions, key `<Type>.<kvKeyForId(id)>.<name>`
 *   (the name is one token without dots, so the key is unambiguous);
 * - stream `<prefix>_reminders` (work queue), subject `<prefix>.reminders.<Type>`: one message per
 *   pending occurrence; durable pull consumer `runner_<Type>` per actor type.
 */
import { kvKeyForId } from "../messaging/subjects.js";

export class ReminderNames {
  constructor(readonly prefix: string) {}

  bucket(): string {
    return `${this.prefix}_reminders`;
  }
  stream(): string {
    return `${this.prefix}_reminders`;
  }
  streamFilter(): string {
    return `${this.prefix}.reminders.>`;
  }
  subject(type: string): string {
    return `${this.prefix}.reminders.${type}`;
  }
  consumer(type: string): string {
    return `runner_${type}`;
  }
  key(type: string, id: string, name: string): string {
    return `${type}.${kvKeyForId(id)}.${name}`;
  }
  /** Human name of the queue, for spans and logs. */
  queueName(type: string): string {
    return `reminders.${type}`;
  }
}
