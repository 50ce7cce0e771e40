/** Helpers for the Redis store tests: a raw node-redis client to look under the store's key, and children. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createClient } from 'redis';

function plainClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: false } });
}
export type RawRedis = ReturnType<typeof plainClient>;

/** A plain node-redis client, to read and plant values as another program would. */
export async function rawRedis(url: string): Promise<RawRedis> {
  const client = plainClient(url);
  client.on('error', () => {});
  await client.connect();
  return client;
}

const CHILD = resolve(import.meta.dirname, 'redis-child.ts');

/** Starts test/helpers/redis-child.ts in `mode` against `url` and `key`. */
export function redisChild(mode: 'hold' | 'loop' | 'load-save', env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the child's stdout once it exits 0; rejects with its stderr otherwise. */
export function childOutput(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`child exited ${code ?? signal}: ${err.slice(-800)}`));
    });
  });
}

/** Resolves once the child prints `line`. */
export function childSays(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes(line)) resolvePromise();
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code} before saying ${line}`)));
  });
}
