// docs/configuration.md and the config module cannot drift: every option of MeshClientOptions and
// every environment variable the config module reads has a row, and every row is real.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Option names declared in an interface of a source file. */
function interfaceKeys(source: string, name: string): string[] {
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1] ?? '';
  return [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((match) => match[1] as string);
}

it('documents every option and environment variable of the config module, and nothing else', async () => {
  // The data settings (config/options.ts) and what MeshClientOptions adds (client/options.ts).
  const options = await readFile(resolve(ROOT, 'src/config/options.ts'), 'utf8');
  const clientOptions = await readFile(resolve(ROOT, 'src/client/options.ts'), 'utf8');
  const resolveSource = await readFile(resolve(ROOT, 'src/config/resolve.ts'), 'utf8');
  const codeOptions = new Set([
    ...interfaceKeys(options, 'ConfigOptions').filter((key) => key !== 'auth0'),
    ...interfaceKeys(clientOptions, 'MeshClientOptions'),
    ...interfaceKeys(options, 'Auth0Options').map((key) => `auth0.${key}`),
  ]);
  // The env vars: the settings table, plus those resolve.ts reads by name.
  const codeEnv = new Set([
    ...Object.values(SETTINGS).flatMap((row): readonly string[] =>
      'env' in row && row.env !== undefined ? [row.env].flat() : [],
    ),
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
  expect(codeEnv.size).toBeGreaterThan(18);
});

it('docs/from-python.md names every variable the Python SDK reads and every one the config module reads', async () => {
  const fromPython = await readFile(resolve(ROOT, 'docs/from-python.md'), 'utf8');
  // The Python SDK's variables: config.py 1.5.5 DEFAULT_CONFIG, token_manager.py 1.5.4, auth.py 1.5.5, README 1.5.5.
  const python = [
    'MESH_API_URL',
    'DEBUG',
    'AUTO_REFRESH',
    'MESH_HEADLESS',
    'MESH_TOKEN_FROM_ENV',
    'MESH_ACCESS_TOKEN',
    'MESH_REFRESH_TOKEN',
    'MESH_TOKEN_EXPIRES_AT',
    'MESH_EXTENDED_TOKEN_LIFETIME',
    'DEFAULT_OPENAI_MODEL',
    'DEFAULT_ANTHROPIC_MODEL',
    'DEFAULT_PROVIDER',
    'THINKING_ENABLED',
    'DEFAULT_THINKING_BUDGET',
    'DEFAULT_THINKING_MAX_TOKENS',
    'DEFAULT_OPENAI_MODEL_OVERRIDE',
    'DEFAULT_ANTHROPIC_MODEL_OVERRIDE',
    'DEFAULT_MODEL',
    'MESH_API_KEY',
    'DOCKER',
    'KUBERNETES_SERVICE_HOST',
    'RENDER',
    'AWS_LAMBDA_FUNCTION_NAME',
    'GOOGLE_CLOUD_PROJECT',
    'CI',
    'GITHUB_ACTIONS',
    'GITLAB_CI',
    'TRAVIS',
    'JENKINS_URL',
    'DISPLAY',
  ];
  const ours = Object.values(SETTINGS).flatMap((row): readonly string[] =>
    'env' in row && row.env !== undefined ? [row.env].flat() : [],
  );
  const missing = [...python, ...ours].filter((name) => !new RegExp(`\`${name}\``).test(fromPython));
  expect(missing, 'variables missing from docs/from-python.md').toEqual([]);
});
