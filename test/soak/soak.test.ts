// The shortened soak in every run: several processes, several expiries, the watcher on token.json.
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { expectFigures, pick, soakOutput } from '../helpers/figures.js';

it('processes sharing a file store across expiries: no failed call, one refresh per expiry, no reuse, token.json always valid', async () => {
  const stdout = await soakOutput(
    ['--import', 'tsx', resolve(import.meta.dirname, 'soak.ts'), '--processes', '4', '--calls', '60', '--ttl', '3'],
    { cwd: resolve(import.meta.dirname, '../..'), timeout: 90_000 },
    (output) => output.includes('soak: {'),
  );
  const figures = JSON.parse(/^soak: (.*)$/m.exec(stdout)?.[1] as string);
  const context = pick(figures, ['firstErrors', 'refreshes', 'expiries', 'watcherReads', 'seconds']);
  expectFigures(
    figures,
    {
      processes: 4,
      calls: 240,
      failedCalls: 0,
      refreshTokenReuse: 0,
      refreshFailures: 0,
      watcherInvalidReads: 0,
    },
    context,
  );
  expect(figures.refreshes, JSON.stringify(context)).toBe(figures.expiries);
  expect(figures.expiries, JSON.stringify(context)).toBeGreaterThanOrEqual(2);
  expect(figures.watcherReads, JSON.stringify(context)).toBeGreaterThan(100);
}, 120_000);
