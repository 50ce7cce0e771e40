/**
 * Scratch directories for tests: made in the system's temp directory and removed when the test
 * file ends (test/helpers/remove-scratch.ts, a setup file of every vitest config), so that a run
 * leaves no token files and logs behind in /tmp. The canary run keeps them: its scan searches
 * what the tests left for leaked secrets, and scripts/canary-run.sh then removes its whole TMPDIR.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
/** How long one closer may take before the directories are removed anyway. */
const CLOSE_BOUND_MS = 5000;

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed with everything in it when this test file ends. */
export async function scratchDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}

/**
 * Runs `close` when this test file ends, before its scratch directories are removed: a client
 * writing into one after its test (the user id kept with the tokens) would make it again.
 */
export function closeBeforeRemoval(close: () => Promise<unknown>): void {
  closers.push(close);
}

/**
 * Closes what was registered (each within a bound; failures ignored: a test may have closed it, or
 * stopped the server a refresh would need), then removes this file's scratch directories (not in
 * the canary run, whose scan reads them).
 */
export async function removeScratchDirs(): Promise<void> {
  await Promise.allSettled(
    closers.splice(0).map((close) => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((done) => {
        timer = setTimeout(done, CLOSE_BOUND_MS);
      });
      return Promise.race([close(), bound]).finally(() => clearTimeout(timer));
    }),
  );
  if (process.env.MESH_CANARY_FILE) return;
  const directories = made.splice(0);
  await Promise.allSettled(directories.map((directory) => rm(directory, { recursive: true, force: true, maxRetries: 3 })));
}
