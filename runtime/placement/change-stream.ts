/**
 * A fan-out of events to any number of async-iterable readers (each reader gets every event
 * published after it started reading). Ends for every reader on `close()`.
 */
export interface ChangeStream<T> extends AsyncIterable<T> {
  /** Resolves when the stream ended. */
  readonly closed: Promise<void>;
}

export class Broadcaster<T> {
  private readonly readers = new Set<{ queue: T[]; wake: (() => void) | undefined }>();
  private ended = false;
  private endResolve!: () => void;
  private readonly ended$ = new Promise<void>((r) => {
    this.endResolve = r;
  });

  publish(event: T): void {
    for (const r of this.readers) {
      r.queue.push(event);
      r.wake?.();
    }
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const r of this.readers) r.wake?.();
    this.endResolve();
  }

  stream(): ChangeStream<T> {
    const self = this;
    return {
      closed: this.ended$,
      async *[Symbol.asyncIterator](): AsyncIterator<T> {
        const reader = { queue: [] as T[], wake: undefined as (() => void) | undefined };
        self.readers.add(reader);
        try {
          for (;;) {
            const next = reader.queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            if (self.ended) return;
            await new Promise<void>((r) => {
              reader.wake = r;
            });
            reader.wake = undefined;
          }
        } finally {
          self.readers.delete(reader);
        }
      },
    };
  }
}
