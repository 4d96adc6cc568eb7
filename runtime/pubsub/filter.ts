/**
 * Event filter expressions: a small, safe language for content filters written in configuration
 * or on the command line. Parsed once into an AST and evaluated by a tree walk: no `eval`, no
 * function calls, no access to anything but the event's own properties.
 *
 *   amount > 100 && status == "paid"
 *   customer.tier in ["gold", "platinum"] || !(region == "eu")
 *   items[0].sku == "tea" && note != null
 *
 * | syntax                        | meaning                                                     |
 * | ----------------------------- | ----------------------------------------------------------- |
 * | `a.b.c`, `a[0]`, `a["x-y"]`   | a path into the event (own properties only; missing = null) |
 * | `12`, `-3.5`, `"s"`, `'s'`    | number and string literals                                  |
 * | `true` `false` `null`         | literals                                                    |
 * | `[1, "a", null]`              | a list of literals (right side of `in`)                     |
 * | `==` `!=`                     | strict equality of numbers, strings, booleans, null         |
 * | `<` `<=` `>` `>=`             | two numbers or two strings; anything else is false          |
 * | `x in [..]`, `x in path`      | `x` equals an element of the list / array                   |
 * | `!` `&&` `||` `( )`           | logic (`&&` binds tighter than `||`)                         |
 * | a bare path                   | true when the value is truthy                               |
 *
 * `null` equals a missing property. Expressions are at most 2000 characters and 64 levels deep.
 *
 * @example
 * ```ts
 * const f = compileFilter('amount > 100 && status == "paid"');
 * f({ amount: 120, status: "paid" });   // true
 * ```
 */
import { ConfigurationError } from "../errors.js";

export const MAX_FILTER_LENGTH = 2000;
const MAX_DEPTH = 64;

type Literal = number | string | boolean | null;
type Node =
  | { k: "lit"; v: Literal }
  | { k: "list"; items: Literal[] }
  | { k: "path"; segs: (string | number)[] }
  | { k: "not"; e: Node }
  | { k: "and" | "or"; l: Node; r: Node }
  | { k: "cmp"; op: CmpOp; l: Node; r: Node };
type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

type Tok =
  | { t: "num"; v: number; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "id"; v: string; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "end"; at: number };

const OPS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",", "."];

function syntax(source: string, at: number, what: string): ConfigurationError {
  return new ConfigurationError(`filter expression, at ${at + 1}: ${what} in: ${source}`);
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    const prev = out[out.length - 1];
    // A "-" starts a number only where a value is expected (not after a value).
    const valueExpected = !prev || (prev.t === "op" && prev.v !== ")" && prev.v !== "]");
    if (num && (c !== "-" || valueExpected)) {
      out.push({ t: "num", v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = "";
      let j = i + 1;
      for (; j < src.length && src.charAt(j) !== c; j++) {
        let ch = src.charAt(j);
        if (ch === "\\") {
          j++;
          const e = src.charAt(j);
          ch = e === "n" ? "\n" : e === "t" ? "\t" : e;
        }
        s += ch;
      }
      if (j >= src.length) throw syntax(src, i, "unterminated string");
      out.push({ t: "str", v: s, at: i });
      i = j + 1;
      continue;
    }
    const id = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: "id", v: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw syntax(src, i, `unexpected "${c}"`);
    out.push({ t: "op", v: op, at: i });
    i += op.length;
  }
  out.push({ t: "end", at: src.length });
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private peek(): Tok {
    return this.toks[this.i] as Tok;
  }
  private next(): Tok {
    return this.toks[this.i++] as Tok;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === v;
  }
  private expectOp(v: string): void {
    const t = this.next();
    if (t.t !== "op" || t.v !== v) throw syntax(this.src, t.at, `expected "${v}"`);
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw syntax(this.src, this.peek().at, "nested too deeply");
  }

  parse(): Node {
    const n = this.or();
    const t = this.peek();
    if (t.t !== "end") throw syntax(this.src, t.at, "unexpected trailing input");
    return n;
  }

  private or(): Node {
    this.enter();
    let l = this.and();
    while (this.isOp("||")) {
      this.next();
      l = { k: "or", l, r: this.and() };
    }
    this.depth--;
    return l;
  }

  private and(): Node {
    let l = this.unary();
    while (this.isOp("&&")) {
      this.next();
      l = { k: "and", l, r: this.unary() };
    }
    return l;
  }

  private unary(): Node {
    if (this.isOp("!")) {
      this.next();
      this.enter();
      const e = this.unary();
      this.depth--;
      return { k: "not", e };
    }
    return this.cmp();
  }

  private cmp(): Node {
    const l = this.primary();
    const t = this.peek();
    const op =
      t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)
        ? (t.v as CmpOp)
        : t.t === "id" && t.v === "in"
          ? "in"
          : undefined;
    if (!op) return l;
    this.next();
    const r = this.primary();
    if (op === "in" && r.k !== "list" && r.k !== "path") {
      throw syntax(this.src, t.at, `"in" needs a list or a path on its right`);
    }
    return { k: "cmp", op, l, r };
  }

  private literal(t: Tok): Literal | undefined {
    if (t.t === "num" || t.t === "str") return t.v;
    if (t.t === "id" && t.v === "true") return true;
    if (t.t === "id" && t.v === "false") return false;
    if (t.t === "id" && t.v === "null") return null;
    return undefined;
  }

  private primary(): Node {
    const t = this.next();
    const lit = this.literal(t);
    if (lit !== undefined) return { k: "lit", v: lit };
    if (t.t === "op" && t.v === "(") {
      const e = this.or();
      this.expectOp(")");
      return e;
    }
    if (t.t === "op" && t.v === "[") {
      const items: Literal[] = [];
      if (!this.isOp("]")) {
        for (;;) {
          const it = this.next();
          const v = this.literal(it);
          if (v === undefined) throw syntax(this.src, it.at, "lists hold literals only");
          items.push(v);
          if (this.isOp("]")) break;
          this.expectOp(",");
        }
      }
      this.expectOp("]");
      return { k: "list", items };
    }
    if (t.t === "id" && t.v !== "in") {
      const segs: (string | number)[] = [t.v];
      for (;;) {
        if (this.isOp(".")) {
          this.next();
          const s = this.next();
          if (s.t !== "id") throw syntax(this.src, s.at, "expected a property name after '.'");
          segs.push(s.v);
        } else if (this.isOp("[")) {
          this.next();
          const s = this.next();
          if (s.t === "num" && Number.isInteger(s.v) && s.v >= 0) segs.push(s.v);
          else if (s.t === "str") segs.push(s.v);
          else throw syntax(this.src, s.at, "expected an index or a quoted name in [ ]");
          this.expectOp("]");
        } else break;
      }
      return { k: "path", segs };
    }
    throw syntax(this.src, t.at, t.t === "end" ? "unexpected end" : "expected a value");
  }
}

function lookup(root: unknown, segs: (string | number)[]): unknown {
  let v: unknown = root;
  for (const s of segs) {
    if (v === null || typeof v !== "object") return undefined;
    if (Array.isArray(v)) {
      if (typeof s !== "number") return undefined;
      v = v[s];
    } else {
      if (typeof s !== "string" || !Object.hasOwn(v, s)) return undefined;
      v = (v as Record<string, unknown>)[s];
    }
  }
  return v;
}

function value(n: Node, event: unknown): unknown {
  switch (n.k) {
    case "lit":
      return n.v;
    case "list":
      return n.items;
    case "path":
      return lookup(event, n.segs);
    default:
      return test(n, event);
  }
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return a === b;
}

function test(n: Node, event: unknown): boolean {
  switch (n.k) {
    case "and":
      return test(n.l, event) && test(n.r, event);
    case "or":
      return test(n.l, event) || test(n.r, event);
    case "not":
      return !test(n.e, event);
    case "cmp": {
      const l = value(n.l, event);
      const r = value(n.r, event);
      switch (n.op) {
        case "==":
          return equal(l, r);
        case "!=":
          return !equal(l, r);
        case "in":
          return Array.isArray(r) && r.some((x) => equal(l, x));
        default: {
          const comparable =
            (typeof l === "number" && typeof r === "number") ||
            (typeof l === "string" && typeof r === "string");
          if (!comparable) return false;
          const a = l as number | string;
          const b = r as number | string;
          return n.op === "<" ? a < b : n.op === "<=" ? a <= b : n.op === ">" ? a > b : a >= b;
        }
      }
    }
    default:
      return Boolean(value(n, event));
  }
}

/** A compiled filter expression: call it with an event. */
export interface CompiledFilter {
  (event: unknown): boolean;
  /** The expression it was compiled from. */
  readonly source: string;
}

/** Parses `source`; throws `ConfigurationError` (with the position) on a syntax error. */
export function compileFilter(source: string): CompiledFilter {
  if (typeof source !== "string" || source.trim() === "") {
    throw new ConfigurationError("filter expression is empty");
  }
  if (source.length > MAX_FILTER_LENGTH) {
    throw new ConfigurationError(`filter expression is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const ast = new Parser(source, lex(source)).parse();
  const f = (event: unknown) => test(ast, event);
  return Object.assign(f, { source });
}
