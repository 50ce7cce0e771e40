// The shortened soak in every run: several processes, several expiries, the watcher on token.json.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('processes sharing a file store across expiries: no failed call, one refresh per expiry, no reuse, token.json always valid', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'soak.ts'), '--processes', '4', '--calls', '60', '--ttl', '3'],
    {
      cwd: resolve(import.meta.dirname, '../..'),
      timeout: 90_000,
    },
  );
  const figures = JSON.parse(/^soak: (.*)$/m.exec(stdout)?.[1] as string);
  expect(figures).toMatchObject({
    processes: 4,
    calls: 240,
    failedCalls: 0,
    refreshTokenReuse: 0,
    refreshFailures: 0,
    watcherInvalidReads: 0,
  });
  expect(figures.refreshes).toBe(figures.expiries);
  expect(figures.expiries).toBeGreaterThanOrEqual(2);
  expect(figures.watcherReads).toBeGreaterThan(100);
}, 120_000);
