/**
 * Fuzzing the pub-sub filter language (runtime/pubsub/filter.ts): expressions from its grammar
 * compile and evaluate to a boolean on any event; mutated and random text compiles or gives a
 * ConfigurationError; a compiled filter never throws, whatever the event.
 */
import test from "ava";
import { ConfigurationError } from "../../runtime/errors.js";
import { compileFilter, MAX_FILTER_LENGTH } from "../../runtime/pubsub/filter.js";
import { text, value } from "./generators.js";
import { fuzz, Rng } from "./harness.js";

const NAMES = [
  "amount",
  "status",
  "customer",
  "tier",
  "items",
  "sku",
  "note",
  "a",
  "b",
  "_x",
  "$y",
  "constructor",
  "__proto__",
  "toString",
  "length",
];

function literal(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return String(rng.int(1000) - 500);
    case 1:
      return (rng.u32() / 1e6).toString();
    case 2:
      return JSON.stringify(text(rng, 8, false));
    case 3:
      return `'${text(rng, 6, false).replace(/['\\]/g, "")}'`;
    default:
      return rng.pick(["true", "false", "null"]);
  }
}

function path(rng: Rng): string {
  let p = rng.pick(NAMES);
  for (let i = rng.int(4); i > 0; i--) {
    p += rng.pick([`.${rng.pick(NAMES)}`, `[${rng.int(5)}]`, `["${rng.pick(NAMES)}"]`]);
  }
  return p;
}

function operand(rng: Rng): string {
  return rng.chance(0.5) ? path(rng) : literal(rng);
}

/** An expression of the grammar (nesting well under the 64-level limit). */
function expression(rng: Rng, depth = 5): string {
  if (depth === 0 || rng.chance(0.3)) {
    switch (rng.int(4)) {
      case 0:
        return path(rng);
      case 1:
        return `${operand(rng)} ${rng.pick(["==", "!=", "<", "<=", ">", ">="])} ${operand(rng)}`;
      case 2:
        return `${operand(rng)} in [${Array.from({ length: rng.int(4) }, () => literal(rng)).join(", ")}]`;
      default:
        return `${operand(rng)} in ${path(rng)}`;
    }
  }
  switch (rng.int(4)) {
    case 0:
      return `${expression(rng, depth - 1)} && ${expression(rng, depth - 1)}`;
    case 1:
      return `${expression(rng, depth - 1)} || ${expression(rng, depth - 1)}`;
    case 2:
      return `!(${expression(rng, depth - 1)})`;
    default:
      return `(${expression(rng, depth - 1)})`;
  }
}

function event(rng: Rng): unknown {
  if (rng.chance(0.3)) return value(rng, 3);
  return {
    amount: rng.int(1000) - 500,
    status: rng.pick(["paid", "open", "", "x"]),
    customer: { tier: rng.pick(["gold", "silver", null]) },
    items: Array.from({ length: rng.int(3) }, () => ({ sku: text(rng, 4, false) })),
    note: rng.chance(0.5) ? null : text(rng),
    a: value(rng, 2),
  };
}

function evaluate(f: (e: unknown) => boolean, rng: Rng): void {
  for (let i = 0; i < 3; i++) {
    const r = f(event(rng));
    if (typeof r !== "boolean") throw new Error(`filter returned ${typeof r}`);
  }
}

const isConfigurationError = (err: unknown) => err instanceof ConfigurationError;

test("fuzz filter - expressions of the grammar compile, and evaluate to a boolean on any event", (t) => {
  fuzz(
    t,
    "filter.grammar",
    40_000,
    (rng) => ({ src: expression(rng), seed: rng.u32() }),
    ({ src, seed }) => {
      if (src.length > MAX_FILTER_LENGTH) return;
      evaluate(compileFilter(src), new Rng(seed));
    },
    () => false,
  );
});

test("fuzz filter - mutated expressions compile or give a ConfigurationError, and compiled ones never throw", (t) => {
  const PIECES = [
    "(",
    ")",
    "[",
    "]",
    "!",
    "&&",
    "||",
    "==",
    "in",
    ".",
    ",",
    '"',
    "'",
    "\\",
    "-",
    "1e999",
    "-.5",
    "  ",
    "\u2028",
    "日",
  ];
  fuzz(
    t,
    "filter.mutated",
    60_000,
    (rng) => {
      let s = expression(rng, 3);
      for (let e = 1 + rng.int(4); e > 0; e--) {
        const at = rng.int(s.length + 1);
        s = rng.chance(0.6)
          ? s.slice(0, at) + rng.pick(PIECES) + s.slice(at)
          : s.slice(0, at) + s.slice(at + 1 + rng.int(3));
      }
      return { src: s, seed: rng.u32() };
    },
    ({ src, seed }) => evaluate(compileFilter(src), new Rng(seed)),
    isConfigurationError,
  );
});

test("fuzz filter - random text and deep nesting compile or give a ConfigurationError", (t) => {
  fuzz(
    t,
    "filter.random",
    20_000,
    (rng) => {
      switch (rng.int(4)) {
        case 0:
          return `${"(".repeat(rng.int(200))}a${")".repeat(rng.int(200))}`;
        case 1:
          return `${"!".repeat(rng.int(200))}a`;
        case 2:
          return `a${"[0]".repeat(rng.int(700))}`;
        default:
          return text(rng, 60);
      }
    },
    (src) => {
      const f = compileFilter(src);
      if (typeof f({ a: [[[1]]] }) !== "boolean") throw new Error("not a boolean");
    },
    isConfigurationError,
  );
});
