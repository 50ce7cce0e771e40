// A token file planted in a repository decides nothing (issue 19 item 1). The Python SDK's headless
// file `.mesh_token.json` used to be read from the working directory when our own stores were
// empty: an attacker who committed their own valid tokens there received the victim's provider
// keys, and a dead planted refresh token made the victim's fresh login land in the tracked file.
// Each test runs a user's script as a real process from inside a cloned repository.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { postJson, registeredTokens } from '../helpers/backend-login.js';
import { pythonTokenFile } from '../helpers/python-format.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({ provider: { deviceInterval: 1 } });
const CHILD = resolve(import.meta.dirname, 'planted-child.ts');
// By path: the script runs from a repository of its own, where `--import tsx` would not resolve.
const TSX = pathToFileURL(resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs')).href;
const KEY_VALUE = 'sk-victim-openai-key-0123456789';

let scratch: string;
afterEach(() => rm(scratch, { recursive: true, force: true }));

/** A cloned repository whose tracked `.mesh_token.json` holds `content`. */
async function clonedRepository(content: string): Promise<string> {
  scratch = await mkdtemp(join(tmpdir(), 'mesh-planted-'));
  const repo = join(scratch, 'repo');
  await mkdir(repo);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=a', '-c', 'user.email=a@b', ...args], { cwd: repo });
  git('init', '-q');
  await writeFile(join(repo, '.mesh_token.json'), content, { mode: 0o600 });
  await writeFile(join(repo, 'README.md'), 'a project\n');
  git('add', '.');
  git('commit', '-q', '-m', 'initial');
  return repo;
}

function runScript(mode: 'store-key' | 'login', cwd: string, env: Record<string, string>) {
  return new Promise<{ ok: boolean; code?: string; store?: string; message?: string }>((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, CHILD, mode], {
      cwd,
      env: { ...process.env, ...stack.env, CI: 'true', MESH_HEADLESS: 'true', PLANTED_KEY_VALUE: KEY_VALUE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('exit', () => {
      const line = out.split('\n').find((text) => text.startsWith('{'));
      if (line) done(JSON.parse(line));
      else fail(new Error(`the script printed no result: ${err.slice(-800)}`));
    });
  });
}

/** The key names an account holds, asked as its owner. */
async function keysOf(account: { tokens: { access_token: string }; userId: string }): Promise<string[]> {
  const response = await fetch(`${stack.apiUrl}/api/v1/listKeys?userId=${encodeURIComponent(account.userId)}`, {
    headers: { authorization: `Bearer ${account.tokens.access_token}` },
  });
  // The deployed backend lists names as stored, `<userId>_<name>`.
  return ((await response.json()) as { keys: string[] }).keys.map((name) => name.replace(`${account.userId}_`, ''));
}

const gitStatus = (repo: string) => execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' });

describe("a .mesh_token.json in the working directory (a cloned repository's)", () => {
  it("holding an attacker's valid tokens, with the victim's stores empty: the victim's key does not land in the attacker's account", async () => {
    const attacker = await registeredTokens(stack, { login: 'mallory@example.test' });
    const planted = pythonTokenFile(attacker.tokens);
    const repo = await clonedRepository(planted);
    const home = join(scratch, 'victim-home');
    const result = await runScript('store-key', repo, { HOME: home, MESH_TOKEN_DIR: join(home, '.mesh') });
    expect(result).toMatchObject({ ok: false, code: 'reauthentication_required' });
    expect(await keysOf(attacker)).toEqual([]);
    expect(await readFile(join(repo, '.mesh_token.json'), 'utf8')).toBe(planted);
    expect(gitStatus(repo)).toBe('');
  });

  it("with the victim logged in: the key lands in the victim's account, and the planted file decides nothing", async () => {
    const attacker = await registeredTokens(stack, { login: 'mallory@example.test' });
    const victim = await registeredTokens(stack, { login: 'victim@example.test' });
    const repo = await clonedRepository(pythonTokenFile(attacker.tokens));
    const home = join(scratch, 'victim-home');
    await new FileStore({ directory: join(home, '.mesh') }).save({
      access_token: victim.tokens.access_token,
      refresh_token: victim.tokens.refresh_token,
      expires_at: Math.floor(Date.now() / 1000) + victim.tokens.expires_in,
    });
    const result = await runScript('store-key', repo, { HOME: home, MESH_TOKEN_DIR: join(home, '.mesh') });
    expect(result).toMatchObject({ ok: true });
    expect(result.store).toBe(`file ${join(home, '.mesh', 'token.json')}`);
    expect(await keysOf(victim)).toContain('openai');
    expect(await keysOf(attacker)).toEqual([]);
  });

  it("holding a dead refresh token: the victim's fresh login goes to the victim's own store, and the tracked file stays as committed", async () => {
    const attacker = await registeredTokens(stack, { login: 'mallory@example.test' });
    // Spend the planted refresh token, so that using it fails and a login follows.
    await postJson(`${stack.apiUrl}/auth/refresh-token`, { refresh_token: attacker.tokens.refresh_token, client_type: 'web' });
    const planted = pythonTokenFile(attacker.tokens, Math.floor(Date.now() / 1000) - 60);
    const repo = await clonedRepository(planted);
    const home = join(scratch, 'victim-home');
    const result = await runScript('login', repo, {
      HOME: home,
      MESH_TOKEN_DIR: join(home, '.mesh'),
      PLANTED_LOGIN: 'victim@example.test',
    });
    expect(result).toMatchObject({ ok: true, store: `file ${join(home, '.mesh', 'token.json')}` });
    expect(await readFile(join(repo, '.mesh_token.json'), 'utf8')).toBe(planted);
    expect(gitStatus(repo)).toBe('');
  });
});

describe('MESH_PYTHON_TOKEN_FILE: the Python interop, by explicit choice', () => {
  it('status and authStatus() name the store that really holds the tokens: the named file', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mesh-planted-'));
    const path = join(scratch, 'python', '.mesh_token.json');
    await mkdir(join(scratch, 'python'));
    const { tokens } = await registeredTokens(stack, { login: 'python-user@example.test' });
    await writeFile(path, pythonTokenFile(tokens), { mode: 0o600 });
    const client = new MeshClient({
      env: {
        ...stack.env,
        CI: 'true',
        MESH_TOKEN_STORE: 'file',
        MESH_TOKEN_DIR: join(scratch, '.mesh'),
        MESH_PYTHON_TOKEN_FILE: path,
      },
    });
    const status = await client.authStatus();
    expect(status.loggedIn).toBe(true);
    expect(status.store).toBe(`file ${path} (the Python SDK's headless token file, MESH_PYTHON_TOKEN_FILE)`);
    await client.close();
  });
});
