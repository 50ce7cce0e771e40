/**
 * A lock file beside the token store, so that processes sharing one refresh token never refresh
 * it at the same time (a rotated token used twice revokes the whole family). Created with `wx`;
 * a lock whose owner process is dead, or that is older than a bound, is broken; released on every
 * path, and only by its owner.
 *
 * Why a second file: breaking a stale lock is two steps, judge then remove, and an unlink between
 * them can remove a lock another process has just taken (issue 12: A and B both judge one dead lock
 * stale, B removes it and creates its own, A's unlink removes B's, two processes refresh one token).
 * So every removal of the lock file (breaking a stale one, an owner's release, cleaning up after a
 * failed write) happens while holding `<path>.break`, and judges the lock again under it. While the
 * breaker is held the file at `path` cannot change: nobody else may remove it, and `wx` cannot
 * replace it. The file judged under the breaker is the file removed: a compare-and-delete.
 *
 * The breaker is held for a few milliseconds of local file I/O, never across a network call. One
 * left by a process that died holding it is broken by the same rules (dead pid on this host, or
 * older than 10 s); a breaker holder checks the breaker is still its own right before it removes
 * anything, so two processes breaking one abandoned breaker overlap at most for that instant.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ErrorCode } from '../../errors/codes.js';
import { AbortError, TimeoutError, TokenStoreError } from '../../errors/mesh-error.js';
import { sleep } from '../../http/waiting.js';
import { fileStoreError } from '../stores/file-errors.js';
import { createExclusive, isStale, type LockOwner, type LockSnapshot, readLock, removeLockFile } from './lock-file.js';
import type { HeldLock, TokenLock } from './token-lock.js';

export type { HeldLock, TokenLock } from './token-lock.js';

/** Points in `RefreshLock` where a test can stop one contender to force an interleaving. */
export interface RefreshLockHooks {
  /** A waiter has judged the lock stale from outside and is about to take the breaker. */
  judgedStale?(): Promise<void>;
  /** A remover holds the breaker, has judged the lock again, and is about to remove it. */
  beforeRemove?(): Promise<void>;
}

export interface RefreshLockOptions {
  /** A lock older than this is broken even if its owner lives (a hung refresh, or never written). @default 45_000 */
  staleAfterMs?: number;
  /** How long to wait for another process's refresh. @default 60_000 */
  waitMs?: number;
  /** @internal Test seam; never set outside tests. */
  hooks?: RefreshLockHooks;
}

const BREAKER_STALE_MS = 10_000; // held for milliseconds: ten seconds means a dead or frozen holder
const RELEASE_WAIT_MS = BREAKER_STALE_MS + 5_000; // a release outwaits an abandoned breaker, no longer
const ABORTED = 'Waiting for the token refresh lock was aborted.';

function newOwner(): LockOwner {
  return { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex'), createdAt: Date.now() };
}

function sameFile(a: LockSnapshot, b: LockSnapshot): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.mtimeMs === b.mtimeMs && a.owner?.nonce === b.owner?.nonce;
}

/**
 * The file implementation of `TokenLock`.
 *
 * @example
 * const lock = new RefreshLock(join(homedir(), '.mesh', 'token.json.lock'));
 * const held = await lock.acquire(AbortSignal.timeout(60_000));
 * try {
 *   // re-read the store, refresh, save
 * } finally {
 *   await held.release();
 * }
 */
export class RefreshLock implements TokenLock {
  readonly #staleAfterMs: number;
  readonly #waitMs: number;
  readonly #hooks: RefreshLockHooks;
  readonly #breakerPath: string;

  constructor(
    readonly path: string,
    options: RefreshLockOptions = {},
  ) {
    this.#staleAfterMs = options.staleAfterMs ?? 45_000;
    this.#waitMs = options.waitMs ?? 60_000;
    this.#hooks = options.hooks ?? {};
    this.#breakerPath = `${path}.break`;
  }

  /**
   * @throws TokenStoreError when the lock cannot be taken at all (a full disk, a directory that is
   * not writable, a lock file that is a symbolic link or another user's); TimeoutError when another
   * process holds it too long; AbortError when `signal` fires.
   */
  async acquire(signal?: AbortSignal): Promise<HeldLock> {
    try {
      return await this.#acquire(signal);
    } catch (error) {
      if (error instanceof AbortError || error instanceof TimeoutError) throw error;
      throw fileStoreError('Taking the refresh lock', this.path, error);
    }
  }

  async #acquire(signal?: AbortSignal): Promise<HeldLock> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + this.#waitMs;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortError(ABORTED);
      const held = await this.#tryCreate();
      if (held) return held;
      const lock = await readLock(this.path);
      if (lock) this.#refuseForeign(lock, this.path);
      // Gone since our create failed (released): try again at once. Stale: break it, then try again.
      let retryNow = lock === undefined;
      if (lock && isStale(lock, this.#staleAfterMs)) {
        await this.#hooks.judgedStale?.();
        retryNow = await this.#removeIf((current) => isStale(current, this.#staleAfterMs), deadline, signal);
      }
      if (Date.now() > deadline) {
        throw new TimeoutError(`Another process has held the token refresh lock (${this.path}) for over ${this.#waitMs} ms.`, {
          hint: `If no other mesh-sdk process is running, delete ${this.path}.`,
        });
      }
      // Short polls with jitter: a refresh takes tens of milliseconds on a good day.
      if (!retryNow) await sleep(Math.min(200, 10 + attempt * 10) + Math.random() * 10, signal, ABORTED);
    }
  }

  /**
   * A lock another user owns can be neither broken (the sticky bit or the directory's mode forbid
   * the unlink) nor waited out by judging its pid: say so at once instead of after the stale bound.
   */
  #refuseForeign(lock: LockSnapshot, path: string): void {
    const uid = process.getuid?.();
    if (uid === undefined || lock.uid === undefined || lock.uid === uid) return;
    throw new TokenStoreError(`The refresh lock ${path} belongs to another user (uid ${lock.uid}, not ${uid}).`, {
      code: ErrorCode.TOKEN_STORE_UNSAFE,
      hint: 'Another user shares this token directory: set MESH_TOKEN_DIR to a directory of your own.',
    });
  }

  async #tryCreate(): Promise<HeldLock | undefined> {
    const owner = newOwner();
    const handle = await createExclusive(this.path);
    if (!handle) return undefined;
    let identity: { ino: number; dev: number } | undefined;
    try {
      const stats = await handle.stat();
      identity = { ino: stats.ino, dev: stats.dev };
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      // Our own empty or half-written file: remove it rather than make everyone wait 45 s for nobody.
      const ours = (lock: LockSnapshot) =>
        lock.ino === identity?.ino && lock.dev === identity.dev && (lock.owner === undefined || lock.owner.nonce === owner.nonce);
      const removed = await this.#removeIf(ours, Date.now() + RELEASE_WAIT_MS).catch(() => false);
      // The breaker itself could not be taken (a full disk fails its write too). Our file is young
      // and unwritten, which nobody else judges stale for 45 s: removing it ourselves, once it is
      // still the very file we created, cannot remove anyone else's.
      if (!removed) {
        const current = await readLock(this.path).catch(() => undefined);
        if (current && ours(current)) await removeLockFile(this.path).catch(() => {});
      }
      throw error;
    }
    let released: Promise<void> | undefined;
    return {
      release: () => {
        // Never throws: a lock left behind is broken by the others once we exit, or after staleAfterMs.
        released ??= this.#removeIf((lock) => lock.owner?.nonce === owner.nonce, Date.now() + RELEASE_WAIT_MS).then(
          () => {},
          () => {},
        );
        return released;
      },
    };
  }

  /**
   * The compare-and-delete: under the breaker, removes the lock file if `judge` says so of the file
   * there now. True when the lock is gone afterwards (removed, or already gone).
   */
  async #removeIf(judge: (lock: LockSnapshot) => boolean, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const breaker = await this.#takeBreaker(deadline, signal);
    if (breaker === undefined) return false;
    try {
      const lock = await readLock(this.path);
      if (lock === undefined) return true;
      if (!judge(lock)) return false;
      await this.#hooks.beforeRemove?.();
      if (!(await this.#holdsBreaker(breaker))) return false;
      await removeLockFile(this.path);
      return true;
    } finally {
      // A breaker we fail to remove is broken by the others after BREAKER_STALE_MS.
      if (await this.#holdsBreaker(breaker).catch(() => false)) await removeLockFile(this.#breakerPath).catch(() => {});
    }
  }

  /** Takes `<path>.break`: resolves its nonce, or undefined when `deadline` passes first. */
  async #takeBreaker(deadline: number, signal?: AbortSignal): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortError(ABORTED);
      const owner = newOwner();
      const handle = await createExclusive(this.#breakerPath);
      if (handle) {
        try {
          await handle.writeFile(JSON.stringify(owner));
        } catch (error) {
          await handle.close().catch(() => {});
          await removeLockFile(this.#breakerPath).catch(() => {}); // fresh and ownerless: nobody else removes it
          throw error;
        }
        await handle.close();
        return owner.nonce;
      }
      const current = await readLock(this.#breakerPath);
      if (current) this.#refuseForeign(current, this.#breakerPath);
      let retryNow = current === undefined;
      if (current && isStale(current, BREAKER_STALE_MS)) {
        // Look once more right before the unlink, to narrow the window in which another process
        // broke this abandoned breaker and took a fresh one.
        const again = await readLock(this.#breakerPath);
        if (again && sameFile(current, again)) await removeLockFile(this.#breakerPath);
        retryNow = true;
      }
      if (Date.now() > deadline) return undefined;
      if (!retryNow) await sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 3, signal, ABORTED);
    }
  }

  async #holdsBreaker(nonce: string): Promise<boolean> {
    return (await readLock(this.#breakerPath))?.owner?.nonce === nonce;
  }
}
