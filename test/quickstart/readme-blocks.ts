// The README's fenced blocks, read by the tests that run or compare them, so that what the README
// prints and what the tests do cannot drift apart.
import { readFileSync } from "node:fs";

export const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The fenced blocks of one `## ` section, in order; with `lang`, only blocks fenced as that. */
export function readmeBlocks(section: string, lang?: string): string[] {
  const start = README.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`README has no section "${section}"`);
  const end = README.indexOf("\n## ", start + 1);
  const text = README.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)]
    .filter((m) => lang === undefined || m[1] === lang)
    .map((m) => m[2] as string);
}

/** The lines of a shell block as printed (a trailing `# comment` is the shell's to ignore). */
export function commandLines(block: string): string[] {
  return block.split("\n").filter((line) => line.trim() !== "");
}

/** A command line without its trailing comment, for comparing commands. */
export function withoutComment(line: string): string {
  return line.replace(/\s+#.*$/, "").trim();
}
