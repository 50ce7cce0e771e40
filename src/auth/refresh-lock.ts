/**
 * A lock file beside the token store, so that processes sharing one refresh token never refresh
 * it at the same time (a rotated token used twice revokes the whole family). Created with `wx`;
 * a lock whose owner process is dead, or that is older than a bound, is broken; released on every
 * path, and only by its owner.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { AbortError, TimeoutError } from '../errors/mesh-error.js';
import { sleep } from '../internal/sleep.js';

export interface RefreshLockOptions {
  /** A lock older than this is broken even if its owner lives (a hung refresh). @default 45_000 */
  staleAfterMs?: number;
  /** How long to wait for another process's refresh. @default 60_000 */
  waitMs?: number;
}

interface LockContent {
  pid: number;
  host: string;
  nonce: string;
  createdAt: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is someone else's
  }
}

export class RefreshLock {
  readonly #staleAfterMs: number;
  readonly #waitMs: number;

  constructor(
    readonly path: string,
    options: RefreshLockOptions = {},
  ) {
    this.#staleAfterMs = options.staleAfterMs ?? 45_000;
    this.#waitMs = options.waitMs ?? 60_000;
  }

  async acquire(signal?: AbortSignal): Promise<HeldLock> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const content: LockContent = {
      pid: process.pid,
      host: hostname(),
      nonce: randomBytes(8).toString('hex'),
      createdAt: Date.now(),
    };
    const deadline = Date.now() + this.#waitMs;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortError('Waiting for the token refresh lock was aborted.');
      try {
        const handle = await open(this.path, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify({ ...content, createdAt: Date.now() }));
        } finally {
          await handle.close();
        }
        return { release: () => this.#release(content.nonce) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      await this.#breakIfStale();
      if (Date.now() > deadline) {
        throw new TimeoutError(`Another process has held the token refresh lock (${this.path}) for over ${this.#waitMs} ms.`, {
          hint: `If no other mesh-sdk process is running, delete ${this.path}.`,
        });
      }
      // Short polls with jitter: a refresh takes tens of milliseconds on a good day.
      await sleep(
        Math.min(200, 10 + attempt * 10) + Math.random() * 10,
        signal,
        'Waiting for the token refresh lock was aborted.',
      );
    }
  }

  async #read(): Promise<LockContent | undefined> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockContent;
    } catch {
      return undefined;
    }
  }

  async #breakIfStale(): Promise<void> {
    const holder = await this.#read();
    if (holder === undefined) {
      // Being written right now, or garbage left by a crash mid-write: judge by a second look.
      await sleep(20);
      if ((await this.#read()) !== undefined) return;
    } else {
      const sameHost = holder.host === hostname();
      const dead = sameHost && typeof holder.pid === 'number' && !isAlive(holder.pid);
      const old = typeof holder.createdAt !== 'number' || Date.now() - holder.createdAt > this.#staleAfterMs;
      if (!dead && !old) return;
    }
    await unlink(this.path).catch(() => {});
  }

  async #release(nonce: string): Promise<void> {
    const holder = await this.#read();
    if (holder?.nonce === nonce) await unlink(this.path).catch(() => {});
  }
}
