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

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed with everything in it when this test file ends. */
export async function scratchDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}

/** Removes this file's scratch directories (not in the canary run, whose scan reads them). */
export async function removeScratchDirs(): Promise<void> {
  if (process.env.MESH_CANARY_FILE) return;
  const directories = made.splice(0);
  // Best effort: a client's background write may still be landing in its directory.
  await Promise.allSettled(directories.map((directory) => rm(directory, { recursive: true, force: true, maxRetries: 3 })));
}
