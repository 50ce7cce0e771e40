// docs/reliability.md stays true: each fault row names an existing test, and there are at least 30.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

it('every row of the fault table names a test that exists', async () => {
  const doc = await readFile(resolve(ROOT, 'docs/reliability.md'), 'utf8');
  const rows = doc.split('\n').filter((line) => /^\|\s*\d+\s*\|/.test(line));
  expect(rows.length).toBeGreaterThanOrEqual(30);
  const missing: string[] = [];
  for (const row of rows) {
    const testCell = row.split('|').at(-2) ?? '';
    const file = /`(test\/[^`]+\.test\.ts)`/.exec(testCell)?.[1];
    const titles = [...testCell.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
    if (!file || titles.length === 0 || !existsSync(resolve(ROOT, file))) {
      missing.push(`${row.slice(0, 60)}...: no test file or title`);
      continue;
    }
    const source = await readFile(resolve(ROOT, file), 'utf8');
    for (const title of titles) if (!source.includes(title)) missing.push(`${file}: "${title}"`);
  }
  expect(missing).toEqual([]);
});
