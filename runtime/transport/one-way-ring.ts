/**
 * The last one-way messages a connection published, kept so that when the broker answers one with
 * "no responders" (or its responder refuses it unrun) the sender can publish it again.
 *
 * A fixed ring of parallel arrays: publishing stores four references and allocates nothing, and
 * memory is bounded by the number of slots and by {@link MAX_RETAINED_BYTES} per message (a larger
 * one keeps only its subject: it can be reported, not resent). The broker's answer comes within a
 * round trip, so a message that is overwritten before it came is one whose sender published
 * `capacity` more in that time; it is then reported as not retained.
 */

/** Messages larger than this are not kept for a resend. */
export const MAX_RETAINED_BYTES = 64 * 1024;

/** A one-way message as it was published. `data` is undefined when it was too large to keep. */
export interface RetainedMessage {
  readonly subject: string;
  readonly data: Uint8Array | undefined;
  readonly headers: Record<string, string> | undefined;
  /** `performance.now()` when it was published. */
  readonly sentAt: number;
  /** How many times it was sent before this time (0 for a first send), as the sender numbered it. */
  readonly attempt: number;
}

export class OneWayRing {
  private readonly seqs: Float64Array;
  private readonly sentAt: Float64Array;
  private readonly attempts: Uint8Array;
  private readonly subjects: (string | undefined)[];
  private readonly datas: (Uint8Array | undefined)[];
  private readonly headers: (Record<string, string> | undefined)[];
  private readonly mask: number;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity = 1024) {
    let size = 1;
    while (size < capacity) size *= 2;
    this.mask = size - 1;
    this.seqs = new Float64Array(size).fill(-1);
    this.sentAt = new Float64Array(size);
    this.attempts = new Uint8Array(size);
    this.subjects = new Array(size).fill(undefined);
    this.datas = new Array(size).fill(undefined);
    this.headers = new Array(size).fill(undefined);
  }

  put(
    seq: number,
    subject: string,
    data: Uint8Array,
    headers: Record<string, string> | undefined,
    attempt: number,
  ): void {
    const i = seq & this.mask;
    this.seqs[i] = seq;
    this.sentAt[i] = performance.now();
    this.attempts[i] = Math.min(255, attempt);
    this.subjects[i] = subject;
    this.datas[i] = data.length <= MAX_RETAINED_BYTES ? data : undefined;
    this.headers[i] = headers;
  }

  /** Removes and returns message `seq`, or undefined when it is no longer retained. */
  take(seq: number): RetainedMessage | undefined {
    const i = seq & this.mask;
    if (this.seqs[i] !== seq) return undefined;
    const out: RetainedMessage = {
      subject: this.subjects[i] as string,
      data: this.datas[i],
      headers: this.headers[i],
      sentAt: this.sentAt[i] as number,
      attempt: this.attempts[i] as number,
    };
    this.seqs[i] = -1;
    this.subjects[i] = undefined;
    this.datas[i] = undefined;
    this.headers[i] = undefined;
    return out;
  }
}
