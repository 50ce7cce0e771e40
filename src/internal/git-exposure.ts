/**
 * Whether a secret file could be published by a commit: `mesh-env` warns when the `.env` it wrote
 * sits in a git work tree without being ignored.
 */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `tracked`: inside a git work tree and not ignored (a commit could publish it); else `safe`. */
export async function gitExposure(path: string): Promise<'tracked' | 'safe'> {
  const cwd = dirname(path);
  try {
    await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd });
  } catch {
    return 'safe'; // not a work tree, or no git
  }
  try {
    await run('git', ['check-ignore', '-q', path], { cwd });
    return 'safe'; // ignored
  } catch {
    return 'tracked';
  }
}
