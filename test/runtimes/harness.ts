/**
 * The runtimes under test and a consumer project to run user scripts in: mesh-sdk packed as npm
 * publishes it, installed into a fresh folder, as a Node.js, Bun or Deno user (or a Worker's
 * bundler) meets it. Bun and Deno come from the npm registry (devDependencies `bun` and `deno`):
 * a missing binary fails the test, it never skips it.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export type LocalRuntime = 'node' | 'bun' | 'deno';
export const LOCAL_RUNTIMES: LocalRuntime[] = ['node', 'bun', 'deno'];

/** The binary of each runtime: this Node.js, and Bun's and Deno's from node_modules. */
export const RUNTIME_BINARY: Record<LocalRuntime, string> = {
  node: process.execPath,
  bun: join(ROOT, 'node_modules', 'bun', 'bin', 'bun.exe'),
  deno: join(ROOT, 'node_modules', 'deno', 'deno'),
};

/** The command line that runs a script file, as a user of each runtime would write it. */
export function scriptCommand(runtime: LocalRuntime, script: string, args: string[] = []): string[] {
  const binary = requireRuntime(runtime);
  // Deno: every permission (-A), as `deno run -A` in the docs; it reads node_modules from package.json.
  return runtime === 'deno' ? [binary, 'run', '-A', script, ...args] : [binary, script, ...args];
}

/** The runtime's binary; throws (the test fails) when it is not installed. */
export function requireRuntime(runtime: LocalRuntime): string {
  const binary = RUNTIME_BINARY[runtime];
  if (!existsSync(binary)) {
    throw new Error(`${runtime} is not installed at ${binary}: run npm ci (it comes from the npm registry as a devDependency).`);
  }
  return binary;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (or kills it after `timeoutMs`); never rejects. */
export function runCommand(
  command: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<ProcessResult> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolvePromise) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    }),
  );
}

/** The last line of a script's stdout, parsed: the scripts print one JSON line of results last. */
export function lastJson<T = Record<string, unknown>>(result: ProcessResult): T {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`No JSON result (exit ${result.code}).\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** A fresh project with the packed mesh-sdk installed; `remove()` deletes it. */
export interface ConsumerProject {
  dir: string;
  tarball: string;
  remove(): Promise<void>;
}

/**
 * Packs dist/ (built by the global setup) and installs the tarball into a new folder, with the
 * packages named in `extra` (e.g. `redis`). Deno reads the same node_modules through the
 * project's package.json.
 */
export async function consumerProject(name: string, extra: string[] = []): Promise<ConsumerProject> {
  const dir = await mkdtemp(join(tmpdir(), `mesh-sdk-${name}-`));
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const tarball = join(dir, filename);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, version: '1.0.0', type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...extra], { cwd: dir });
  return { dir, tarball, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * How long a script may live on after its last line. What it catches holds a process for good or
 * for tens of seconds (a keychain helper's open pipe, a loopback server's connection); a loaded
 * 2-core machine has taken more than 2 s to tear a runtime down.
 */
export const LINGER_BOUND_MS = 5000;

/** What `runScript` answers: the process's output, and how long it lived on after its last line. */
export interface ScriptResult extends ProcessResult {
  /** ms from the last stdout line to the exit: a script that lingers holds something open. */
  lingerMs: number;
}

/**
 * Runs a command to its end like `runCommand`, calling `onLine` with each stdout line as it comes
 * (to drive a login from the URL a script prints), and measures how long the process lingered
 * after its last line. Killed after `timeoutMs` (code null); never rejects.
 */
export function runScript(
  command: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; onLine?: (line: string) => void },
): Promise<ScriptResult> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let lastLineAt = Date.now();
  child.stdout.on('data', (chunk) => {
    const before = stdout.length;
    stdout += chunk;
    lastLineAt = Date.now();
    const start = stdout.lastIndexOf('\n', before - 1) + 1;
    const complete = stdout.slice(start, stdout.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n').slice(0, -1)) options.onLine?.(line);
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolvePromise) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, lingerMs: Date.now() - lastLineAt });
    }),
  );
}
