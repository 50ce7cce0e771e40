/** Runs the built bins (dist/cli) as a user would, and reads what they print. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = {
  'mesh-auth': resolve(ROOT, 'dist/cli/mesh-auth.cjs'),
  'mesh-env': resolve(ROOT, 'dist/cli/mesh-env.cjs'),
};

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startBin(bin: keyof typeof BIN, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess {
  return spawn(process.execPath, [BIN[bin], ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function finished(child: ChildProcess): Promise<BinResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolvePromise) => child.on('close', (code) => resolvePromise({ code, stdout, stderr })));
}

export function runBin(bin: keyof typeof BIN, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<BinResult> {
  return finished(startBin(bin, args, env, cwd));
}

/** Resolves with the first match of `pattern` in the child's stderr. */
export function waitForStderr(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`not printed within 20 s: ${pattern}; got: ${seen}`)), 20_000);
    child.stderr?.on('data', (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[0]);
      }
    });
  });
}
