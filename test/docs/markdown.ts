/** The published documentation as the docs tests read it: pages, fenced blocks, inline code. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Page {
  /** Relative to the repository root, e.g. `docs/client.md`. */
  path: string;
  text: string;
}

export interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Marked with `<!-- runnable -->` on the line before the fence. */
  runnable: boolean;
}

/** README.md, examples/README.md and every page of docs/. */
export function pages(): Page[] {
  const paths = [
    'README.md',
    'examples/README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  return paths.map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

/** The fenced blocks of a page (indented fences inside list items too). */
export function blocks(page: Page): Block[] {
  const lines = page.text.split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const indent = open[1] as string;
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (end < 0) throw new Error(`${page.path}:${i + 1}: a fence that is never closed`);
    found.push({
      page: page.path,
      line: i + 1,
      lang: open[2] as string,
      code: lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n'),
      runnable: /<!--\s*runnable\s*-->/.test(lines[i - 1] ?? ''),
    });
    i = end;
  }
  return found;
}

/** The page without its fenced blocks (prose, tables and inline code only). */
export function prose(page: Page): string {
  return page.text.replace(/^\s*```\w*\s*\n[\s\S]*?^\s*```\s*$/gm, '');
}

/** The inline code spans of the page's prose. */
export function inlineCode(page: Page): string[] {
  return [...prose(page).matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);
}
