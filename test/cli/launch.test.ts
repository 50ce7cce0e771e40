// The bins start their program through V8's code cache (src/cli/launch.ts, issue 22): the first run
// of a command writes it into a directory of the user's own, later runs start from it. The cache is
// code the CLI runs with the user's tokens in reach, so a directory or file someone else could have
// written is never read, and the cache is never needed for the command to work.
import { spawn } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { finished, ROOT, runBin } from '../helpers/bins.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

/** Runs a bin file (another install's copy) as runBin runs the built ones. */
function execBin(bin: string, args: string[], env: NodeJS.ProcessEnv) {
  return finished(spawn(process.execPath, [bin, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('the bins start from a code cache of their own', () => {
  const stack = useStack();
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cacheDirectory = () => join(home, '.cache', 'mesh-sdk', 'compile-cache');
  const cacheFiles = async () => (await readdir(cacheDirectory()).catch(() => [] as string[])).sort();
  const status = () => runBin('mesh-auth', ['status'], env);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-cli-launch-'));
    env = {
      PATH: process.env.PATH,
      HOME: home,
      ...stack.env,
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: join(home, 'tokens'),
    };
    await new FileStore({ directory: join(home, 'tokens') }).save(await storedTokens(stack));
  });
  beforeEach(async () => {
    await rm(join(home, '.cache'), { recursive: true, force: true });
    stack.backend.settings.validateEndpoint = true;
  });
  afterAll(async () => {
    stack.backend.settings.validateEndpoint = true;
    await rm(home, { recursive: true, force: true });
  });

  it('the first run writes the cache (directory 700, file 600), the next starts from it and leaves it as it is', async () => {
    const first = await status();
    expect(first.code, first.stderr).toBe(0);
    const [file, ...more] = await cacheFiles();
    expect(more).toEqual([]);
    expect(file).toMatch(/^mesh-auth-program\.cjs-.*-status\.v8$/);
    expect((await stat(cacheDirectory())).mode & 0o777).toBe(0o700);
    const written = await stat(join(cacheDirectory(), file as string));
    expect(written.mode & 0o777).toBe(0o600);

    const second = await status();
    expect([second.code, second.stderr]).toEqual([first.code, first.stderr]);
    // V8 took it: a refused cache is written again at exit.
    const after = await stat(join(cacheDirectory(), file as string));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('code run from the cache loads the packages it needs on first use, an ES module among them (jose)', async () => {
    // Without the backend's validator, status checks the token's signature here, with jose.
    stack.backend.settings.validateEndpoint = false;
    for (const run of ['writes the cache', 'starts from it']) {
      const result = await status();
      expect(result.code, `${run}: ${result.stderr}`).toBe(0);
      expect(result.stderr).toContain('Checked by: the local validator');
    }
  });

  it('each command word has its own cache, holding what that command ran', async () => {
    expect((await runBin('mesh-auth', ['token'], env)).code).toBe(0);
    expect((await status()).code).toBe(0);
    const files = await cacheFiles();
    expect(files.map((name) => name.replace(/^.*-(\w+)\.v8$/, '$1'))).toEqual(['status', 'token']);
  });

  it('a cache file V8 refuses (damaged, another Node.js) is replaced, and the command works', async () => {
    expect((await status()).code).toBe(0);
    const [file] = await cacheFiles();
    const path = join(cacheDirectory(), file as string);
    await writeFile(path, Buffer.alloc(4096, 7), { mode: 0o600 });
    const result = await status();
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(path)).size).not.toBe(4096);
  });

  it('a cache directory open to other users, or a link, is not used; nothing is written there', async () => {
    await mkdir(cacheDirectory(), { recursive: true });
    await chmod(cacheDirectory(), 0o777);
    let result = await status();
    expect(result.code, result.stderr).toBe(0);
    expect(await cacheFiles()).toEqual([]);

    await rm(cacheDirectory(), { recursive: true });
    const elsewhere = await mkdtemp(join(tmpdir(), 'mesh-cli-launch-elsewhere-'));
    await symlink(elsewhere, cacheDirectory());
    result = await status();
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await lstat(cacheDirectory())).isSymbolicLink()).toBe(true);
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('a cache file that is a link is not followed: the command works, and the link is replaced by a file', async () => {
    expect((await status()).code).toBe(0);
    const [file] = await cacheFiles();
    const path = join(cacheDirectory(), file as string);
    const planted = join(home, 'planted.v8');
    await writeFile(planted, 'not a cache');
    await rm(path);
    await symlink(planted, path);
    const result = await status();
    expect(result.code, result.stderr).toBe(0);
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect((await stat(planted)).size).toBe('not a cache'.length);
  });

  it('another install of mesh-sdk keeps its own cache: neither removes the other', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'mesh-cli-launch-copy-'));
    await cp(join(ROOT, 'dist', 'cli'), join(copy, 'cli'), { recursive: true });
    const statusOf = (bin: string) => execBin(bin, ['status'], env);
    for (let round = 0; round < 2; round++) {
      expect((await statusOf(join(ROOT, 'dist', 'cli', 'mesh-auth.cjs'))).code).toBe(0);
      expect((await statusOf(join(copy, 'cli', 'mesh-auth.cjs'))).code).toBe(0);
    }
    const files = await cacheFiles();
    expect(files).toHaveLength(2);
    const times = async () => Promise.all(files.map(async (name) => (await stat(join(cacheDirectory(), name))).mtimeMs));
    const before = await times();
    expect((await statusOf(join(ROOT, 'dist', 'cli', 'mesh-auth.cjs'))).code).toBe(0);
    expect((await statusOf(join(copy, 'cli', 'mesh-auth.cjs'))).code).toBe(0);
    expect(await times()).toEqual(before);
    await rm(copy, { recursive: true, force: true });
  });

  it("a new build's cache replaces the old build's; another Node.js's cache stays", async () => {
    expect((await status()).code).toBe(0);
    const [written] = await cacheFiles();
    const match = /^(mesh-auth-program\.cjs-[0-9a-f]{8}-)(v[\d.]+)(-\w+-)(.+)(-status\.v8)$/.exec(written as string);
    expect(match, written).not.toBeNull();
    const [, install, node, arch, , command] = match as RegExpExecArray;
    const oldBuild = `${install}${node}${arch}0.0.1-1-1-1${command}`;
    const otherNode = `${install}v99.0.0${arch}0.0.1-1-1-1${command}`;
    for (const name of [oldBuild, otherNode]) await writeFile(join(cacheDirectory(), name), 'cache', { mode: 0o600 });
    // A refused cache is written again, and writing one is when leftovers go.
    await writeFile(join(cacheDirectory(), written as string), Buffer.alloc(4096, 7), { mode: 0o600 });
    expect((await status()).code).toBe(0);
    expect(await cacheFiles()).toEqual([written, otherNode].sort());
  });

  it('writing a cache removes the caches no run has used for 30 days, and no other', async () => {
    await mkdir(cacheDirectory(), { recursive: true, mode: 0o700 });
    const old = join(cacheDirectory(), 'mesh-auth-program.cjs-0000abcd-0.0.1-gone-status.v8');
    const recent = join(cacheDirectory(), 'mesh-auth-program.cjs-0000abcd-0.0.1-elsewhere-token.v8');
    await writeFile(old, 'old', { mode: 0o600 });
    await writeFile(recent, 'recent', { mode: 0o600 });
    const fortyDaysAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    await utimes(old, fortyDaysAgo, fortyDaysAgo);
    expect((await status()).code).toBe(0);
    const files = await cacheFiles();
    expect(files).toContain(basename(recent));
    expect(files).not.toContain(basename(old));
    expect(files.filter((name) => name.endsWith('-status.v8'))).toHaveLength(1);
  });

  it('XDG_CACHE_HOME moves it; NODE_DISABLE_COMPILE_CACHE turns it off', async () => {
    const xdg = join(home, 'xdg');
    let result = await runBin('mesh-auth', ['status'], { ...env, XDG_CACHE_HOME: xdg });
    expect(result.code).toBe(0);
    expect(await readdir(join(xdg, 'mesh-sdk', 'compile-cache'))).toHaveLength(1);
    expect(await cacheFiles()).toEqual([]);

    result = await runBin('mesh-auth', ['status'], { ...env, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(result.code).toBe(0);
    expect(await cacheFiles()).toEqual([]);
  });
});
