/**
 * The raw nats.js request patterns the baselines use.
 *
 * {@link MuxRequester} is the fastest raw request-reply measured on this hardware: one wildcard
 * subscription on a private inbox receives every reply and a sequence number in the reply subject
 * finds the waiting caller. No per-call subscription, timer or Error object. It is deliberately
 * minimal (no per-call deadline): it is the floor Troupe is compared with.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";

export class MuxRequester {
  private readonly inbox = createInbox();
  private readonly prefixLength = this.inbox.length + 1;
  private readonly waiting = new Map<number, (data: Uint8Array) => void>();
  private seq = 0;

  constructor(private readonly nc: NatsConnection) {
    nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onReply(msg) });
  }

  /** `headers`: a header block to send with the request (e.g. a `traceparent`), none by default. */
  request(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<Uint8Array> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      const reply = `${this.inbox}.${id}`;
      this.nc.publish(subject, data, headers ? { reply, headers } : { reply });
    });
  }

  private onReply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.prefixLength));
    const resolve = this.waiting.get(id);
    if (!resolve) return;
    this.waiting.delete(id);
    resolve(msg.data);
  }
}

const requesters = new WeakMap<NatsConnection, MuxRequester>();

/** One requester per connection (one reply subscription, like Troupe's transport). */
export function muxRequester(nc: NatsConnection): MuxRequester {
  let r = requesters.get(nc);
  if (!r) {
    r = new MuxRequester(nc);
    requesters.set(nc, r);
  }
  return r;
}
