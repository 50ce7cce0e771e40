// The shortened fleet soak in every run: 2 machines x 3 processes (+ the victim) on one Redis
// token store, 3 s tokens, Redis restarted and the lock holder SIGKILLed mid-run.
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { expectFigures, pick, soakOutput } from '../helpers/figures.js';

it('a fleet sharing a Redis store: no failed call, one refresh per expiry, no reuse, no revoked family, through a Redis restart and a killed lock holder', async () => {
  const script = resolve(import.meta.dirname, 'fleet.ts');
  const args = ['--machines', '2', '--processes', '3', '--calls', '30', '--ttl', '3', '--json'];
  const stdout = await soakOutput(
    ['--import', 'tsx', script, ...args],
    {
      cwd: resolve(import.meta.dirname, '../..'),
      timeout: 100_000,
      // The script's own knobs and MESH_* settings of the caller must not change this run.
      env: Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('FLEET_') && !name.startsWith('MESH_')),
      ),
    },
    (output) => output.trim().startsWith('{'),
  );
  const figures = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  // Which figure was off, the run's first errors and warnings, and the timings of the restart and
  // the kill: all on the first line of a failure, which is all CI's summary shows.
  const context = pick(figures, [
    'firstErrors',
    'warnings',
    'refreshes',
    'expiries',
    'unsentGenerations',
    'redisDownMs',
    'redisRestartAfterGoMs',
    'victimCallsBeforeKill',
    'lockLeaseLeftAtKillMs',
    'victimLockKeptMs',
    'callWindowSeconds',
  ]);
  expectFigures(
    figures,
    {
      machines: 2,
      processesPerMachine: 3,
      calls: 180,
      okCalls: 180,
      failedCalls: 0,
      victimFailedCalls: 0,
      failedWarmups: 0,
      refreshFailures: 0,
      refreshTokenReuse: 0,
      revokedFamilies: 0,
      families: 1,
      earlyReplacements: 0,
      redisRestarted: true,
      redisDataKept: true,
      lockHolderKilled: true,
      // One refresh per expiry.
      refreshesPerExpiry: 1,
      goalsFailed: [],
    },
    context,
  );
  expect(figures.refreshes, JSON.stringify(context)).toBe(figures.expiries);
  expect(figures.expiries, JSON.stringify(context)).toBeGreaterThanOrEqual(4);
  // Nobody took or deleted the dead holder's lock before its lease ran out.
  expect(figures.victimLockKeptMs, JSON.stringify(context)).toBeGreaterThanOrEqual(figures.lockLeaseLeftAtKillMs - 100);
}, 120_000);
