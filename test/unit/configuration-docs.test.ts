// docs/configuration.md and the config module cannot drift: every option of MeshClientOptions and
// every environment variable the config module reads has a row, and every row is real.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Option names declared in an interface of src/config/options.ts. */
function interfaceKeys(source: string, name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1] ?? '';
  return [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((match) => match[1] as string);
}

it('documents every option and environment variable of the config module, and nothing else', async () => {
  const options = await readFile(resolve(ROOT, 'src/config/options.ts'), 'utf8');
  const resolveSource = await readFile(resolve(ROOT, 'src/config/resolve.ts'), 'utf8');
  const codeOptions = new Set([
    ...interfaceKeys(options, 'MeshClientOptions').filter((key) => key !== 'auth0'),
    ...interfaceKeys(options, 'Auth0Options').map((key) => `auth0.${key}`),
  ]);
  // The env vars: the settings table, plus those resolve.ts reads by name.
  const codeEnv = new Set([
    ...Object.values(SETTINGS).flatMap((row) => ('env' in row && row.env ? [row.env] : [])),
    ...[...resolveSource.matchAll(/envAt\(env, '([A-Z0-9_]+)'\)/g)].map((match) => match[1] as string),
  ]);

  const docs = await readFile(resolve(ROOT, 'docs/configuration.md'), 'utf8');
  const rows = [...docs.matchAll(/^\|\s*`([\w.]+)`\s*\|\s*(`[A-Z0-9_]+`|-)\s*\|/gm)];
  const docOptions = new Set(rows.map((row) => row[1] as string));
  const docEnv = new Set(rows.map((row) => (row[2] as string).replaceAll('`', '')).filter((env) => env !== '-'));

  expect(
    [...codeOptions].filter((o) => !docOptions.has(o)),
    'options missing from docs/configuration.md',
  ).toEqual([]);
  expect(
    [...docOptions].filter((o) => !codeOptions.has(o)),
    'rows in docs/configuration.md that are not options',
  ).toEqual([]);
  expect(
    [...codeEnv].filter((e) => !docEnv.has(e)),
    'environment variables missing from docs/configuration.md',
  ).toEqual([]);
  expect(
    [...docEnv].filter((e) => !codeEnv.has(e)),
    'environment variables in the docs that the code does not read',
  ).toEqual([]);
  expect(codeOptions.size).toBeGreaterThan(20);
  expect(codeEnv.size).toBeGreaterThan(12);
});
