/**
 * A lighter OpenTelemetry `Context` for the contexts Troupe builds per message: the api's
 * `BaseContext` copies its whole Map on every `setValue`, so the context a turn runs in (one span
 * on top of the root) costs a Map and its backing store per message. Here `setValue` adds one
 * link on top of the context it is called on; a lookup walks the links (a few at most: past
 * {@link MAX_DEPTH} they are folded into a `BaseContext`). Behaves as `BaseContext` does
 * (`getValue` of a deleted key is undefined); only used under the root, never for contexts
 * handed in by user code.
 */
import { type Context, ROOT_CONTEXT } from "@opentelemetry/api";

/** Links walked at most by a lookup before they are folded into one `BaseContext`. */
const MAX_DEPTH = 8;

class ContextLink implements Context {
  constructor(
    private readonly parent: ContextLink | undefined,
    private readonly key: symbol,
    private readonly value: unknown,
    private readonly depth: number,
  ) {}

  getValue(key: symbol): unknown {
    for (let link: ContextLink | undefined = this; link; link = link.parent) {
      if (link.key === key) return link.value;
    }
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    return this.depth < MAX_DEPTH
      ? new ContextLink(this, key, value, this.depth + 1)
      : this.folded().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.setValue(key, undefined);
  }

  /** The same values in a `BaseContext` (outermost set first, so the innermost wins). */
  private folded(): Context {
    const links: ContextLink[] = [];
    for (let link: ContextLink | undefined = this; link; link = link.parent) links.push(link);
    let ctx = ROOT_CONTEXT;
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i] as ContextLink;
      ctx = link.value === undefined ? ctx.deleteValue(link.key) : ctx.setValue(link.key, link.value);
    }
    return ctx;
  }
}

/** An empty context (as `ROOT_CONTEXT`) whose derived contexts are {@link ContextLink}s. */
export const LIGHT_ROOT: Context = {
  getValue: () => undefined,
  setValue: (key, value) => new ContextLink(undefined, key, value, 1),
  deleteValue: () => LIGHT_ROOT,
};
