/**
 * Whether a file holding secrets could be published by a commit: inside a git work tree and not
 * ignored. The file store refuses to write its default file there (a home directory kept in git),
 * and `mesh-env` warns about a `.env` there.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** `git` with arguments, in `cwd`; node:child_process is loaded by the first run (inside a work tree), not at import. */
async function run(command: string, args: string[], options: { cwd: string }): Promise<unknown> {
  const { execFile } = await import('node:child_process');
  return promisify(execFile)(command, args, options);
}

/** The nearest directory at or above `directory` holding a `.git` (a directory or a worktree's file), if any. */
async function workTreeAbove(directory: string): Promise<string | undefined> {
  for (let current = resolve(directory); ; current = dirname(current)) {
    if (
      await stat(join(current, '.git')).then(
        () => true,
        () => false,
      )
    )
      return current;
    if (dirname(current) === current) return undefined;
  }
}

/**
 * `tracked`: inside a git work tree and not ignored (a commit could publish it); `safe`: not in a
 * work tree, or ignored. Costs a few `stat` calls, and one `git` run only inside a work tree.
 */
export async function gitExposure(path: string): Promise<'tracked' | 'safe'> {
  const root = await workTreeAbove(dirname(path));
  if (root === undefined) return 'safe';
  try {
    await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dirname(path) });
  } catch {
    return 'safe'; // a stray .git, or no git: nothing can commit the file from here
  }
  try {
    await run('git', ['check-ignore', '-q', path], { cwd: dirname(path) });
    return 'safe'; // ignored
  } catch {
    return 'tracked';
  }
}
