// Processes sharing one file store: exactly one refresh per expiry, no invalid_grant, no refresh
// token reuse seen by the provider, and a lock holder killed with SIGKILL stops nobody.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const CHILD = resolve(import.meta.dirname, '../helpers/token-child.ts');
const stack = useStack({ provider: { accessTokenTtl: 3 } });
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-cross-process-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function child(mode: 'loop' | 'hold-lock', ms = 0): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
    env: { ...process.env, MESH_CHILD_DIR: directory, MESH_API_URL: stack.apiUrl, MESH_CHILD_MS: String(ms) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface ChildReport {
  calls: number;
  errors: string[];
  tokens: string[];
}

function report(process: ChildProcess): Promise<ChildReport> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    process.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    process.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    process.on('exit', (code) => {
      if (code === 0) resolvePromise(JSON.parse(out.trim().split('\n').at(-1) as string) as ChildReport);
      else reject(new Error(`child exited ${code}: ${err.slice(-500)}`));
    });
  });
}

describe('processes sharing a file store', () => {
  it('8 processes across several expiries: one refresh per expiry, no invalid_grant, no reuse', async () => {
    const initial = await storedTokens(stack);
    await new FileStore({ directory }).save(initial);
    const counters = stack.backend.counters;
    const before = {
      refreshes: counters.refreshes,
      failures: counters.refreshFailures,
      reuse: stack.provider.counters.refreshTokenReuse,
    };

    const reports = await Promise.all(Array.from({ length: 8 }, () => report(child('loop', 7000))));

    const errors = reports.flatMap((r) => r.errors);
    // The tokens the calls carried, and the one the store holds now: a refresh ahead of expiry may
    // run after a process's last call, and its token is kept for whoever comes next.
    const stored = (await new FileStore({ directory }).load())?.access_token;
    const distinct = new Set([initial.access_token, ...reports.flatMap((r) => r.tokens), stored]);
    const refreshes = counters.refreshes - before.refreshes;
    // 3 s tokens refreshed at half-life over 7 s: several generations.
    expect(refreshes).toBeGreaterThanOrEqual(3);
    // Every refresh made exactly one new token, which the processes then shared (or the store keeps): one refresh per expiry.
    expect(distinct.size).toBe(refreshes + 1);
    expect(errors).toEqual([]);
    expect(counters.refreshFailures - before.failures).toBe(0);
    expect(stack.provider.counters.refreshTokenReuse - before.reuse).toBe(0);
    expect(reports.reduce((sum, r) => sum + r.calls, 0)).toBeGreaterThan(1000);
  }, 60_000);

  it('a process killed with SIGKILL while holding the lock does not stop the others', async () => {
    const stale = { ...(await storedTokens(stack)), expires_at: Math.floor(Date.now() / 1000) - 5 };
    await new FileStore({ directory }).save(stale);
    const holder = child('hold-lock');
    await new Promise<void>((resolvePromise) =>
      holder.stdout?.on('data', (chunk) => String(chunk).includes('locked') && resolvePromise()),
    );
    holder.kill('SIGKILL');
    await new Promise((resolvePromise) => holder.on('exit', resolvePromise));

    const started = Date.now();
    const refreshes = stack.backend.counters.refreshes;
    const [result] = await Promise.all([report(child('loop', 500))]);
    expect(result?.errors).toEqual([]);
    // One refresh (3 s tokens, 500 ms of calls), its token shared by every call after it.
    expect(stack.backend.counters.refreshes - refreshes).toBe(1);
    expect(result?.tokens).toHaveLength(1);
    expect(result?.tokens[0]).not.toBe(stale.access_token);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
