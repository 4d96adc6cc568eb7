/**
 * Glob lists as used by policy matches: `*` matches any run of characters (also none), `?` exactly
 * one, everything else itself. A list matches when any of its globs matches; an empty list matches
 * anything.
 *
 * @example
 * ```ts
 * const m = compileGlobs(["get*", "list?"]);
 * m("getCart"); // true
 * m("lists");   // true
 * m("put");     // false
 * ```
 */
export type Matcher = (value: string) => boolean;

const ANY: Matcher = () => true;

export function compileGlobs(globs: readonly string[]): Matcher {
  if (globs.length === 0 || globs.includes("*")) return ANY;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const patterns = globs.filter((g) => /[*?]/.test(g)).map(globToRegExp);
  if (patterns.length === 0) return (value) => exact.has(value);
  return (value) => exact.has(value) || patterns.some((re) => re.test(value));
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const ch of glob) {
    if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else source += ch.replace(/[\\^$.|+()[\]{}/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
