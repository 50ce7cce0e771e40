// The refresh lock file against a real directory: breaking a stale lock can never remove a live one
// (issue 12), the 45 s rule for unwritten and hung locks, dead owners, release only by the owner,
// abandoned breakers, bounded and abortable waits. Interleavings are forced through the lock's hooks.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefreshLock, type RefreshLockOptions } from '../../../src/auth/locks/refresh-lock.js';
import { AbortError, TimeoutError } from '../../../src/errors/mesh-error.js';

let directory: string;
let path: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-refresh-lock-'));
  path = join(directory, 'token.json.lock');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A hook that stops its caller until `open()`; `reached` resolves when the caller got there. */
function gate(): { hook: () => Promise<void>; reached: Promise<void>; open: () => void } {
  let open!: () => void;
  let reach!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  return {
    hook: async () => {
      reach();
      await opened;
    },
    reached,
    open,
  };
}

/** Writes a lock file as another holder would, with its modification time `ageMs` in the past. */
async function plantLock(file: string, content: string, ageMs: number): Promise<void> {
  await writeFile(file, content);
  const when = (Date.now() - ageMs) / 1000;
  await utimes(file, when, when);
}

function owner(pid: number, host = hostname(), nonce = 'planted'): string {
  return JSON.stringify({ pid, host, nonce, createdAt: Date.now() });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

async function nonceOnDisk(file = path): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { nonce?: string }).nonce;
  } catch {
    return undefined;
  }
}

function lock(options: RefreshLockOptions = {}): RefreshLock {
  return new RefreshLock(path, options);
}

describe('breaking a stale lock never removes a live one (issue 12)', () => {
  it('A judges the lock stale, B breaks it and takes the lock, A does not remove B’s lock', async () => {
    await plantLock(path, owner(await deadPid()), 0);
    const paused = gate();
    // A will time out rather than wait for B: its outcome is then settled, whatever it did.
    const a = lock({ waitMs: 300, hooks: { judgedStale: paused.hook } });
    const aResult = a.acquire().then(
      () => 'acquired',
      (error: unknown) => error,
    );
    await paused.reached; // A has read the dead owner's lock and judged it stale

    const heldByB = await lock().acquire();
    const bNonce = await nonceOnDisk();
    expect(bNonce).toBeDefined();
    expect(bNonce).not.toBe('planted');

    paused.open();
    const outcome = await aResult;
    expect(outcome).toBeInstanceOf(TimeoutError);
    expect(await nonceOnDisk()).toBe(bNonce);

    await heldByB.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a lock created but not yet written, in place of the stale one, is not removed either', async () => {
    await plantLock(path, owner(await deadPid()), 0);
    const paused = gate();
    const a = lock({ waitMs: 300, hooks: { judgedStale: paused.hook } });
    const aResult = a.acquire().then(
      () => 'acquired',
      (error: unknown) => error,
    );
    await paused.reached;
    // Another process breaks the stale lock and has just created its own: empty so far.
    await rm(path);
    await writeFile(path, '', { flag: 'wx' });

    paused.open();
    expect(await aResult).toBeInstanceOf(TimeoutError);
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('while one process holds the breaker, another cannot break the same lock', async () => {
    await plantLock(path, owner(await deadPid()), 0);
    const paused = gate();
    const a = lock({ hooks: { beforeRemove: paused.hook } });
    let holders = 0;
    let most = 0;
    const enter = () => {
      holders += 1;
      most = Math.max(most, holders);
    };
    const aHeld = a.acquire().then((held) => {
      enter();
      return held;
    });
    await paused.reached; // A holds the breaker and has judged the lock stale under it

    let bAcquired = false;
    const bHeld = lock()
      .acquire()
      .then((held) => {
        bAcquired = true;
        enter();
        return held;
      });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bAcquired).toBe(false);
    expect(await nonceOnDisk()).toBe('planted');

    paused.open();
    const heldByA = await aHeld;
    expect(bAcquired).toBe(false);
    holders -= 1;
    await heldByA.release();
    const heldByB = await bHeld;
    await heldByB.release();
    expect(most).toBe(1);
  });

  it('many contenders on one dead lock: exactly one takes it', async () => {
    await plantLock(path, owner(await deadPid()), 0);
    const contenders = Array.from({ length: 6 }, () => lock({ waitMs: 400 }).acquire());
    const results = await Promise.allSettled(contenders);
    const winners = results.filter((result) => result.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(TimeoutError);
  });
});

describe('when a lock is stale', () => {
  const plain = (ageMs: number) => plantLock(path, '', ageMs);

  it('an unwritten lock younger than 45 s is someone creating it: not broken', async () => {
    await plain(0);
    await expect(lock({ waitMs: 200 }).acquire()).rejects.toBeInstanceOf(TimeoutError);
    await plain(44_000);
    await expect(lock({ waitMs: 200 }).acquire()).rejects.toBeInstanceOf(TimeoutError);
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('an unwritten or garbage lock older than 45 s is broken', async () => {
    await plain(46_000);
    const held = await lock({ waitMs: 2_000 }).acquire();
    expect(await nonceOnDisk()).toMatch(/^[0-9a-f]{16}$/);
    await held.release();
    await plantLock(path, '{"pid": 12', 46_000);
    await (await lock({ waitMs: 2_000 }).acquire()).release();
  });

  it('a live owner’s lock is kept for 45 s, then broken (a hung refresh)', async () => {
    await plantLock(path, owner(process.pid), 44_000);
    await expect(lock({ waitMs: 200 }).acquire()).rejects.toBeInstanceOf(TimeoutError);
    expect(await nonceOnDisk()).toBe('planted');
    await plantLock(path, owner(process.pid), 46_000);
    await (await lock({ waitMs: 2_000 }).acquire()).release();
  });

  it('a dead owner’s lock is broken at once; a pid on another host is not judged by this host', async () => {
    const pid = await deadPid();
    await plantLock(path, owner(pid, 'another-host.example'), 0);
    await expect(lock({ waitMs: 200 }).acquire()).rejects.toBeInstanceOf(TimeoutError);
    await plantLock(path, owner(pid), 0);
    const started = Date.now();
    await (await lock({ waitMs: 5_000 }).acquire()).release();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a lock with this process’s pid from before it started (a restarted container) is broken at once', async () => {
    const before = Date.now() - process.uptime() * 1000 - 60_000;
    await plantLock(path, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'planted', createdAt: before }), 0);
    const started = Date.now();
    await (await lock({ waitMs: 5_000 }).acquire()).release();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a lock dated far in the future (the clock was set back) is broken', async () => {
    await plantLock(path, owner(process.pid), -120_000);
    await (await lock({ waitMs: 2_000 }).acquire()).release();
  });

  it('honours staleAfterMs', async () => {
    await plantLock(path, owner(process.pid), 1_500);
    await (await lock({ staleAfterMs: 1_000, waitMs: 2_000 }).acquire()).release();
  });
});

describe('release', () => {
  it('removes only its own lock: one broken as hung and replaced stays', async () => {
    const a = await lock().acquire();
    const aged = (Date.now() - 50_000) / 1000;
    await utimes(path, aged, aged); // A's refresh hung past 45 s
    const b = await lock({ waitMs: 2_000 }).acquire();
    const bNonce = await nonceOnDisk();
    await a.release();
    expect(await nonceOnDisk()).toBe(bNonce);
    await b.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is safe to call twice and leaves no breaker behind', async () => {
    const held = await lock().acquire();
    await Promise.all([held.release(), held.release()]);
    await held.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(`${path}.break`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('the breaker', () => {
  it('one left by a dead process is broken', async () => {
    await plantLock(`${path}.break`, owner(await deadPid()), 0);
    const held = await lock({ waitMs: 2_000 }).acquire();
    await held.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('one held by a live process blocks breaking until it is 10 s old', async () => {
    await plantLock(path, owner(await deadPid()), 0);
    await plantLock(`${path}.break`, owner(process.pid), 0);
    await expect(lock({ waitMs: 300 }).acquire()).rejects.toBeInstanceOf(TimeoutError);
    expect(await nonceOnDisk()).toBe('planted');
    await plantLock(`${path}.break`, owner(process.pid), 11_000);
    await (await lock({ waitMs: 2_000 }).acquire()).release();
  });
});

describe('waiting', () => {
  it('is bounded: TimeoutError with code timeout and a hint naming the file', async () => {
    const held = await lock().acquire();
    const error = await lock({ waitMs: 150 })
      .acquire()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect((error as TimeoutError).hint).toContain(path);
    await held.release();
  });

  it('is abortable, and ends when the holder releases', async () => {
    const held = await lock().acquire();
    const controller = new AbortController();
    const aborted = lock().acquire(controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(aborted).rejects.toBeInstanceOf(AbortError);

    const waiter = lock().acquire();
    setTimeout(() => void held.release(), 50);
    await (await waiter).release();
  });

  it('creates the lock directory owner-only when missing', async () => {
    const nested = new RefreshLock(join(directory, 'a', 'b', 'token.json.lock'));
    await (await nested.acquire()).release();
    if (process.platform !== 'win32') expect((await stat(join(directory, 'a', 'b'))).mode & 0o777).toBe(0o700);
  });
});

describe('real processes', () => {
  const CHILD = join(import.meta.dirname, '../../helpers/lock-child.ts');
  const start = (mode: 'hold' | 'loop') =>
    spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
      env: { ...process.env, MESH_LOCK_PATH: path, MESH_LOCK_ROUNDS: '25' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const output = (child: ReturnType<typeof start>) =>
    new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr.on('data', (chunk) => {
        err += chunk;
      });
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err.slice(-500)}`))));
    });

  it('four processes racing to break a killed holder’s lock, then taking turns: never two inside', async () => {
    const holder = start('hold');
    await new Promise<void>((resolve) => holder.stdout.on('data', (chunk) => String(chunk).includes('locked') && resolve()));
    const loopers = Array.from({ length: 4 }, () => start('loop'));
    const reports = Promise.all(loopers.map(output));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the loopers are all waiting on the live holder
    holder.kill('SIGKILL');
    const results = (await reports).map((out) => JSON.parse(out.trim().split('\n').at(-1) as string) as { overlaps: number });
    expect(results.map((result) => result.overlaps)).toEqual([0, 0, 0, 0]);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(`${path}.break`)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);
});
