/**
 * What the benchmarks share: the lean server (bench/lean-server.ts) in a process of its own, a
 * token store for it, and one timed slice of calls. Importing this file starts nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileStore } from '../src/auth/stores/file-store.js';

/** The user bench/lean-server.ts answers for (its profile's id, the prefix of its keys; the server keeps its own copy: it imports nothing). */
export const LEAN_USER_ID = 'lean-user';
/** Any token does: the lean server checks nothing. */
export const LEAN_TOKEN = 'lean-bench-token';

const ROOT = resolve(import.meta.dirname, '..');

/** Starts the lean server and answers its URL once it listens. It ends with its parent (stdin closes). */
export function startLeanServer(): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lean-server.ts')], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /LEAN_URL=(\S+)\n/.exec(out);
      if (match) done({ url: match[1] as string, child });
    });
    child.once('exit', (code) => fail(new Error(`the lean server exited ${code}`)));
  });
}

/** A new directory whose token.json holds a day-long set of LEAN_TOKEN, as a file store keeps it. */
export async function leanTokenDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  await new FileStore({ directory }).save({
    access_token: LEAN_TOKEN,
    refresh_token: 'lean-bench-refresh',
    expires_at: Math.floor(Date.now() / 1000) + 86_400,
  });
  return directory;
}

export type Call = () => Promise<unknown>;

/** Calls completed by `concurrency` workers calling until `ms` has passed (in-flight calls finish), and the seconds taken. */
export async function slice(call: Call, concurrency: number, ms: number): Promise<{ count: number; seconds: number }> {
  let count = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await call();
        count++;
      }
    }),
  );
  return { count, seconds: (performance.now() - started) / 1000 };
}
