// Claims in the docs that are not names: the examples page covers every example, the local
// stack's documented fault body works as written, the figures the docs quote are the code's, and
// text the docs quote as the SDK's output is the SDK's.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_KEY_TIMEOUT_MS } from '../../src/client/operations.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ServerError } from '../../src/errors/mesh-error.js';
import { LOGIN_TIMEOUT_MS } from '../../src/flow/auth-flow.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { blocks, type Page, pages, ROOT } from './markdown.js';

const stack = useStack({}, { resetAfterEach: true });
const PAGES = pages();
const page = (path: string) => PAGES.find((p) => p.path === path) as Page;
const all = PAGES.map((p) => p.text).join('\n');

it('examples/README.md has a row for every example in examples/, and for nothing else', () => {
  const files = readdirSync(join(ROOT, 'examples'))
    .filter((name) => name.endsWith('.ts'))
    .sort();
  const rows = [...page('examples/README.md').text.matchAll(/^\| `([\w-]+\.ts)` +\|/gm)].map((match) => match[1]).sort();
  expect(rows).toEqual(files);
});

it("docs/local-stack.md's fault example, posted as written, makes the next two chats 503 and no more", async () => {
  const example = blocks(page('docs/local-stack.md')).find(
    (block) => block.lang === 'json' && page('docs/local-stack.md').text.split('\n')[block.line - 2]?.includes('fault-example'),
  );
  expect(example, 'the block after <!-- fault-example -->').toBeDefined();
  const added = await fetch(`${stack.apiUrl}/__dev/faults`, { method: 'POST', body: example?.code });
  expect(added.status).toBe(200);
  const { client } = await clientWithTokens(stack, { maxRetries: 0 });
  try {
    await client.listKeys(); // not a chat: untouched
    for (let i = 0; i < 2; i += 1) {
      await expect(client.chat('What is 1 + 1?')).rejects.toMatchObject({ constructor: ServerError, status: 503 });
    }
    expect((await client.chat('What is 1 + 1?')).content).toContain('2');
  } finally {
    await client.close();
  }
});

describe('figures the docs quote are the code’s', () => {
  // [what, a pattern capturing the figure wherever the docs state it, the code's value]
  const figures: Array<[string, RegExp, number]> = [
    [
      'generateApiKey waits',
      /generateApiKey`?[^.|]{0,60}?(?:up to|waits) (\d+) s|(\d+) s default timeout/g,
      API_KEY_TIMEOUT_MS / 1000,
    ],
    [
      'maxResponseBytes default (MiB)',
      /`maxResponseBytes` \((\d+) MiB\)/g,
      (SETTINGS.maxResponseBytes.default as number) / 1024 / 1024,
    ],
    ['streamIdleTimeout default (s)', /`streamIdleTimeout` \((\d+) s\)/g, (SETTINGS.streamIdleTimeout.default as number) / 1000],
    ['the browser login wait (minutes)', /\((\d+) minutes(?:; `timeoutMs`)?\)/g, LOGIN_TIMEOUT_MS / 60_000],
  ];
  it.each(figures)('%s', (_what, pattern, value) => {
    const stated = [...all.matchAll(pattern)].map((match) => Number(match[1] ?? match[2]));
    expect(stated.length, 'stated somewhere').toBeGreaterThan(0);
    expect(
      stated.every((figure) => figure === value),
      `stated: ${stated.join(', ')}`,
    ).toBe(true);
  });
});

it('text the docs quote as what the SDK prints (```text blocks) is the SDK’s, line for line', () => {
  const source = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? source(path) : name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
    });
  const code = source(join(ROOT, 'src')).join('\n');
  const quoted = PAGES.flatMap((p) => blocks(p).filter((block) => block.lang === 'text'));
  expect(quoted.length).toBeGreaterThan(0);
  const missing = quoted.flatMap((block) =>
    block.code
      .split('\n')
      // A URL or an elided value is an example; the words around it are the SDK's.
      .filter((line) => line.trim() !== '' && !/https?:\/\/|\.\.\.|…/.test(line))
      .filter((line) => !code.includes(line.trim()))
      .map((line) => `${block.page}:${block.line}: ${line.trim()}`),
  );
  expect(missing).toEqual([]);
});

describe('docs/runtimes.md: every cell of the runtime table is tested', () => {
  const text = page('docs/runtimes.md').text;
  const start = text.indexOf('<!-- runtimes-table -->');
  const rows = text
    .slice(start)
    .split('\n')
    .slice(3) // the marker, the header, the rule
    .filter((line, index, lines) => line.startsWith('|') && lines.slice(0, index).every((before) => before.startsWith('|')))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );

  it('has a row per feature, with a cell for each runtime and the tests that check it', () => {
    expect(start).toBeGreaterThan(0);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) expect(row, row[0]).toHaveLength(6);
  });

  it.each(rows.map((row) => [row[0], row[5]] as const))('%s: each named test exists, in the file named', (_feature, testedBy) => {
    const references = [...(testedBy ?? '').matchAll(/`([\w.-]+\.test\.ts)` "([^"]+)"/g)];
    expect(references.length).toBeGreaterThan(0);
    for (const [, file, title] of references) {
      const source = readFileSync(join(ROOT, 'test', 'runtimes', file as string), 'utf8');
      expect(source, `${file} has no test named like "${title}"`).toContain(title);
    }
  });

  it('the tests cover every runtime of the table: the local ones run on Node.js, Bun and Deno, the API one also on workerd', () => {
    const harness = readFileSync(join(ROOT, 'test', 'runtimes', 'harness.ts'), 'utf8');
    expect(harness).toMatch(/LOCAL_RUNTIMES: LocalRuntime\[\] = \['node', 'bun', 'deno'\]/);
    const api = readFileSync(join(ROOT, 'test', 'runtimes', 'api.test.ts'), 'utf8');
    expect(api).toMatch(/\.\.\.LOCAL_RUNTIMES\.map/);
    expect(api).toMatch(/runtime: 'workerd'/);
  });
});
