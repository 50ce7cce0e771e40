/**
 * One lock file on disk: create it exclusively, look at it, judge whether its holder is gone.
 * No policy about who may remove it: that is `RefreshLock`'s (see there why).
 */
import { constants } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { sleep } from '../../http/waiting.js';

/** What a holder writes into its lock file, right after creating it. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Unique per acquisition: the identity an owner releases by. */
  nonce: string;
  createdAt: number;
}

/** A lock file as seen at one moment. */
export interface LockSnapshot {
  /** Undefined while the file is created but not yet written, or holds garbage from a crash mid-write. */
  owner: LockOwner | undefined;
  /** Age by the file's modification time: the same clock for written and unwritten locks. */
  ageMs: number;
  mtimeMs: number;
  ino: number;
  dev: number;
  /** The uid owning the file (undefined where there are none, Windows). */
  uid: number | undefined;
}

/** A lock file holds one small JSON object; anything longer is not ours. */
const MAX_LOCK_BYTES = 4096;

const PROCESS_STARTED_MS = Date.now() - process.uptime() * 1000;

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner> | null;
    if (typeof value?.pid !== 'number' || typeof value.host !== 'string' || typeof value.nonce !== 'string') return undefined;
    return value as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` on this machine still runs. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errno(error) === 'EPERM'; // exists, but is someone else's
  }
}

/**
 * The lock file at `path`, or undefined when there is none. Opened without following a symbolic
 * link (ELOOP reaches the caller), and read only up to a few kilobytes.
 */
export async function readLock(path: string): Promise<LockSnapshot | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // Stat and read through one handle: both describe the same file even if the path changes meanwhile.
    const stats = await handle.stat();
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
    return {
      owner: parseOwner(buffer.subarray(0, bytesRead).toString('utf8')),
      ageMs: Date.now() - stats.mtimeMs,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
      dev: stats.dev,
      uid: process.platform === 'win32' ? undefined : stats.uid,
    };
  } finally {
    await handle.close();
  }
}

/**
 * Whether a lock's holder is gone: its process on this host is dead, or the lock is older than
 * `staleAfterMs` (a hung holder, an owner on another host, or one that died between creating the file
 * and writing it). An unwritten lock younger than that is someone writing it right now: not stale.
 */
export function isStale(lock: LockSnapshot, staleAfterMs: number): boolean {
  // A modification time far in the future (the clock was set back) proves nothing either: stale too.
  if (Math.abs(lock.ageMs) > staleAfterMs) return true;
  const owner = lock.owner;
  if (owner === undefined || owner.host !== hostname()) return false;
  // Our own pid on a lock written before this process started: a previous container run (pid 1
  // again) killed while holding it. Any lock of this very process is younger than the process.
  if (owner.pid === process.pid) return typeof owner.createdAt === 'number' && owner.createdAt < PROCESS_STARTED_MS - 1_000;
  return !isAlive(owner.pid);
}

/** Creates `path` exclusively (`wx`, owner-only): a handle to the new, empty file, or undefined if one exists. */
export async function createExclusive(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'wx', 0o600);
  } catch (error) {
    if (errno(error) === 'EEXIST') return undefined;
    throw error;
  }
}

/** Unlinks `path`; gone already is fine. Windows refuses while a reader has it open: retry briefly. */
export async function removeLockFile(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await unlink(path);
      return;
    } catch (error) {
      const code = errno(error);
      if (code === 'ENOENT') return;
      if ((code !== 'EPERM' && code !== 'EBUSY') || attempt >= 10) throw error;
      await sleep(10);
    }
  }
}
