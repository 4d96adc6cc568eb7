#!/usr/bin/env node
// Docs check (part of `npm run check`): every page under docs/ is linked from docs/README.md (the
// index), and every relative link in docs/README.md and README.md points to a file that exists.
//
//   node scripts/check-docs.mjs [root]   exit 1, listing each unlinked page and each broken link
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
const docs = path.join(root, "docs");
const index = path.join(docs, "README.md");

/** Every .md file under dir, as paths relative to docs/. */
function pages(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return pages(full);
    return e.name.endsWith(".md") ? [path.relative(docs, full)] : [];
  });
}

/** Relative link targets of a markdown file, resolved against its folder (anchors dropped). */
function links(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith("#"))
    .map((href) => path.resolve(path.dirname(file), href.split("#")[0]));
}

const problems = [];
if (!existsSync(index)) {
  problems.push("docs/README.md (the docs index) is missing");
} else {
  const linked = new Set(links(index).map((p) => path.relative(docs, p)));
  for (const page of pages(docs)) {
    if (page !== "README.md" && !linked.has(page))
      problems.push(`docs/${page} is not linked from docs/README.md`);
  }
  for (const file of [index, path.join(root, "README.md")]) {
    for (const target of links(file)) {
      if (!existsSync(target)) {
        problems.push(
          `${path.relative(root, file)} links to ${path.relative(root, target)}, which does not exist`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`check-docs: ${p}`);
  process.exit(1);
}
console.log(`check-docs: ${pages(docs).length} pages, all linked from docs/README.md`);
