/**
 * Processes killed in the middle of a refresh, for the crash tests and the crash soak: one child
 * (test/auth/crash-child.ts) refreshes its login through a holding proxy and is killed at a chosen
 * step, or from outside once the proxy holds the rotated set's reply; the next process then shows
 * whether the login (the refresh-token family) survived.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createTokenStore } from '../../src/auth/stores/create-token-store.js';
import type { TokenStore } from '../../src/auth/stores/token-store.js';
import { resolveConfig } from '../../src/config/resolve.js';

const CHILD = resolve(import.meta.dirname, '../auth/crash-child.ts');

export interface CrashOutcome {
  /** Exit code, when the process exited by itself. */
  code: number | null;
  /** The signal that ended it, when one did. */
  signal: NodeJS.Signals | null;
  /** The child's JSON line, when it got that far. */
  result: { ok: boolean; code?: string; message?: string } | undefined;
  stderr: string;
}

export interface CrashRun {
  child: ChildProcess;
  /** Resolves once the child says it starts the refresh. */
  refreshing: Promise<void>;
  done: Promise<CrashOutcome>;
}

/** Starts the child with `env` (the SDK's variables, CRASH_AT, CRASH_SIGNAL, CRASH_SDK). */
export function startCrashChild(env: NodeJS.ProcessEnv): CrashRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let saidRefreshing: () => void = () => {};
  const refreshing = new Promise<void>((resolveRefreshing) => {
    saidRefreshing = resolveRefreshing;
  });
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
    if (stdout.includes('refreshing\n')) saidRefreshing();
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CrashOutcome>((resolveDone) => {
    child.on('exit', (code, signal) => {
      const line = stdout
        .split('\n')
        .reverse()
        .find((text) => text.startsWith('{'));
      resolveDone({ code, signal, result: line ? JSON.parse(line) : undefined, stderr });
    });
  });
  return { child, refreshing, done };
}

/** Runs the child to its end. */
export function runCrashChild(env: NodeJS.ProcessEnv): Promise<CrashOutcome> {
  return startCrashChild(env).done;
}

/**
 * The store a child with `env` uses, built the same way (for seeding it and reading it back).
 * `keychainEnv`: the private bus the keychain helper talks to.
 */
export function storeOf(env: Record<string, string>, keychainEnv?: NodeJS.ProcessEnv): TokenStore {
  const config = resolveConfig({ env });
  return createTokenStore(config, { env, keychain: keychainEnv ? { env: keychainEnv } : undefined }).store;
}
