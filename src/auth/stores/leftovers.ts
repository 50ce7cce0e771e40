/**
 * Temp files a killed process left beside a token file. An atomic save writes
 * `<file>.<pid>.<hex>.tmp`, fsyncs it and renames it over the file; a process killed between the
 * fsync and the rename leaves a complete set there that nobody would read. After a refresh that set
 * holds the only copy of the rotated refresh token, so it is taken up:
 *
 * - the file holds a refresh intent (refresh-intent.ts) and a complete leftover written after it
 *   carries another refresh token: the refresh finished and only its save was cut, so the leftover
 *   is the current set;
 * - there is no file at all and a complete leftover exists: a login's first save was cut.
 *
 * The leftover is read, not renamed: whoever saves next (a refresh, under the lock) writes the real
 * file, and renaming outside the lock could put an older set over a newer one saved meanwhile.
 * Leftovers of dead processes that are not taken up (half-written, older than the file, or from a
 * save whose set the file already holds) are removed. A live process's temp file is its save in
 * progress: never touched.
 */
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { InternalLogger } from '../../internal/logger.js';
import { readSecretFile } from '../../internal/secret-file.js';
import { isAlive } from '../locks/lock-file.js';
import { intentOf } from '../locks/refresh-intent.js';
import { parseStoredTokenJson } from '../tokens/token-set.js';
import type { TokenSet } from './token-store.js';

const MAX_LEFTOVER_BYTES = 64 * 1024;

interface Leftover {
  path: string;
  pid: number;
}

/** The temp files beside `path` that a dead process left (this process's own are its saves in flight). */
async function deadLeftovers(path: string): Promise<Leftover[]> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const prefix = `${basename(path)}.`;
  const found: Leftover[] = [];
  for (const name of names) {
    const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    found.push({ path: join(dirname(path), name), pid });
  }
  return found;
}

/** A leftover's set, when it is a complete one this user wrote; undefined otherwise. */
async function completeSet(leftover: Leftover): Promise<{ tokens: TokenSet; mtimeMs: number } | undefined> {
  try {
    const read = await readSecretFile(leftover.path, { maxBytes: MAX_LEFTOVER_BYTES });
    return read ? { tokens: parseStoredTokenJson(read.text), mtimeMs: read.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The set to use instead of `current` (the file's set, read at `currentMtimeMs`), when a dead
 * process's leftover holds a newer one; undefined when there is none. Removes the leftovers that
 * are of no use.
 */
export async function takeUpLeftover(
  path: string,
  current: TokenSet | null,
  currentMtimeMs: number | undefined,
  logger: InternalLogger,
): Promise<TokenSet | undefined> {
  const leftovers = await deadLeftovers(path);
  if (leftovers.length === 0) return undefined;
  const unfinished = current === null || intentOf(current) !== undefined;
  let best: { leftover: Leftover; tokens: TokenSet; mtimeMs: number } | undefined;
  for (const leftover of leftovers) {
    const set = unfinished ? await completeSet(leftover) : undefined;
    const successor =
      set !== undefined &&
      (currentMtimeMs === undefined || set.mtimeMs >= currentMtimeMs) &&
      (current === null || set.tokens.refresh_token !== current.refresh_token);
    if (successor && (best === undefined || set.mtimeMs > best.mtimeMs)) {
      if (best) await unlink(best.leftover.path).catch(() => {});
      best = { leftover, ...set };
      continue;
    }
    await unlink(leftover.path).catch(() => {});
  }
  if (!best) return undefined;
  logger.warnOnce(
    `leftover:${best.leftover.path}`,
    `A process (pid ${best.leftover.pid}) was killed while saving tokens to ${path}; using the complete set it left in ${best.leftover.path} (it is written properly by the next save).`,
  );
  return best.tokens;
}

/** Removes every temp file a dead process left beside `path` (after a save, which supersedes them). */
export async function removeDeadLeftovers(path: string): Promise<void> {
  for (const leftover of await deadLeftovers(path)) await unlink(leftover.path).catch(() => {});
}
