// `mesh-auth token` and `print-tokens` read a valid stored token without loading the HTTP stack
// (issue 22: src/cli/token-session.ts). What they do around that is what the CLI's MeshClient does:
// a refresh through the backend when the token is due, the same refusals, the same errors.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { BIN, finished, ROOT, runBin } from '../helpers/bins.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

/** What issue 22 keeps out of `mesh-auth token` with a valid stored token: HTTP, the login, zod, the keychain's helper, node:crypto (the bins load it on first call). */
const NOT_LOADED = [
  'undici',
  'zod',
  'jose',
  'openid-client',
  'open',
  'redis',
  '@napi-rs/keyring',
  'node:child_process',
  'node:crypto',
];

/** The packages (and node: builtins) a run of mesh-auth loads through the ESM loader (load-recorder.mjs). */
async function loadedBy(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; loaded: Set<string> }> {
  const record = join(await scratchDir('mesh-cli-loads-'), 'loads.txt');
  const recorder = join(ROOT, 'test/cli/load-recorder.mjs');
  const child = spawn(process.execPath, ['--import', recorder, BIN['mesh-auth'], ...args], {
    env: { ...env, MESH_LOAD_RECORD: record },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code } = await finished(child);
  const urls = (await readFile(record, 'utf8')).trim().split('\n');
  await rm(join(record, '..'), { recursive: true, force: true });
  const loaded = new Set<string>();
  for (const url of urls) {
    if (url.startsWith('node:')) loaded.add(url);
    const at = url.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const parts = url.slice(at + '/node_modules/'.length).split('/');
    loaded.add(parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
  }
  return { code, loaded };
}

describe('mesh-auth token and print-tokens, with the tokens in a file', () => {
  const stack = useStack();
  let env: NodeJS.ProcessEnv;
  let directory: string;
  const tokenFile = () => join(directory, 'token.json');
  const requests = () => Object.values(stack.backend.counters.requests).reduce((sum, count) => sum + count, 0);
  const save = (tokens: TokenSet) => new FileStore({ directory }).save(tokens);
  const stored = async (): Promise<TokenSet> => JSON.parse(await readFile(tokenFile(), 'utf8'));

  beforeAll(async () => {
    const home = await scratchDir('mesh-cli-token-');
    directory = join(home, 'tokens');
    env = { PATH: process.env.PATH, HOME: home, ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory };
  });
  beforeEach(async () => {
    await save(await storedTokens(stack));
  });

  it('a valid token is printed as it is stored, without a request to the backend', async () => {
    const before = requests();
    const result = await runBin('mesh-auth', ['token'], env);
    expect([result.code, result.stdout, result.stderr]).toEqual([0, `${(await stored()).access_token}\n`, '']);
    expect(requests()).toBe(before);
  });

  it('a valid token loads neither HTTP nor the login, zod or the keychain; status asks the backend through node:http, not undici', async () => {
    const token = await loadedBy(['token'], env);
    expect(token.code).toBe(0);
    expect(token.loaded).toContain('node:fs/promises');
    expect(NOT_LOADED.filter((name) => token.loaded.has(name))).toEqual([]);
    expect(token.loaded.has('node:http')).toBe(false);
    const status = await loadedBy(['status'], env);
    expect(status.code).toBe(0);
    expect(status.loaded).toContain('node:http');
    expect(status.loaded.has('undici')).toBe(false);
  });

  it('status with a proxy variable set goes through undici (node:http does not read them); NO_PROXY lets it reach the stack', async () => {
    const requests = stack.backend.counters.requests['GET /auth/validate'] ?? 0;
    const status = await loadedBy(['status'], { ...env, HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost' });
    expect(status.code).toBe(0);
    expect(status.loaded).toContain('undici');
    expect(stack.backend.counters.requests['GET /auth/validate']).toBe(requests + 1);
  });

  it('status reads the profile once for the e-mail address; the next status names the person with one request (validate)', async () => {
    const count = (route: string) => stack.backend.counters.requests[route] ?? 0;
    const before = { validate: count('GET /auth/validate'), profile: count('GET /auth/profile') };
    const first = await runBin('mesh-auth', ['status'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Logged in as alice@example.test');
    const second = await runBin('mesh-auth', ['status'], env);
    expect([second.code, second.stderr]).toEqual([0, first.stderr]);
    expect({ validate: count('GET /auth/validate'), profile: count('GET /auth/profile') }).toEqual({
      validate: before.validate + 2,
      profile: before.profile + 1,
    });
  });

  it.each([['token'], ['print-tokens']])(
    '%s with an expired access token: refreshed once through the backend, stored, then printed',
    async (command) => {
      const expired = { ...(await stored()), expires_at: Math.floor(Date.now() / 1000) - 60 };
      await save(expired);
      const refreshes = stack.backend.counters.refreshes;
      const result = await runBin('mesh-auth', [command], env);
      expect(result.code).toBe(0);
      const now = await stored();
      expect(now.access_token).not.toBe(expired.access_token);
      expect(now.refresh_token).not.toBe(expired.refresh_token);
      expect(stack.backend.counters.refreshes).toBe(refreshes + 1);
      if (command === 'token') expect(result.stdout).toBe(`${now.access_token}\n`);
      else expect(result.stdout).toContain(`export MESH_REFRESH_TOKEN=${now.refresh_token}`);
    },
  );

  it('an expired token whose refresh the backend refuses: exit 4, nothing on stdout, what to run', async () => {
    await save({ ...(await stored()), refresh_token: 'revoked-refresh-token', expires_at: Math.floor(Date.now() / 1000) - 60 });
    const result = await runBin('mesh-auth', ['token'], env);
    expect([result.code, result.stdout]).toEqual([4, '']);
    expect(result.stderr).toMatch(/^Error: Mesh needs you to log in again: the backend refused the refresh token/);
    expect(result.stderr).toContain('npx mesh-auth');
  });

  it('no tokens: exit 4 with the hint to log in', async () => {
    const result = await runBin('mesh-auth', ['token'], { ...env, MESH_TOKEN_DIR: join(directory, 'none') });
    expect([result.code, result.stdout]).toEqual([4, '']);
    expect(result.stderr).toMatch(
      /^Error: Mesh needs you to log in again: you are not logged in\.\nRun `npx mesh-auth` to log in\./,
    );
  });

  it('MESH_API_KEY set: refused as the client refuses it (exit 1), for both commands', async () => {
    for (const command of ['token', 'print-tokens']) {
      const result = await runBin('mesh-auth', [command], { ...env, MESH_API_KEY: 'mesh_cli_test_key' });
      expect([result.code, result.stdout, result.stderr]).toEqual([
        1,
        '',
        'Error: This client holds no tokens: this client was given apiKey, authToken or tokenProvider.\nCreate the client without them to log in.\n',
      ]);
    }
  });

  it('a malformed proxy variable fails as the client construction does, before any token is read', async () => {
    const result = await runBin('mesh-auth', ['token'], { ...env, HTTPS_PROXY: 'not a url' });
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toBe(
      "Error: HTTPS_PROXY is set, but not to a URL.\nSet HTTPS_PROXY to the proxy's URL (e.g. http://proxy.example:3128), or unset it.\n",
    );
  });

  it('a bad setting is the configuration error, not a token', async () => {
    const result = await runBin('mesh-auth', ['token'], { ...env, AUTH0_CALLBACK_PORT: 'abc' });
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toMatch(/^Error: The environment variable AUTH0_CALLBACK_PORT is invalid: got "abc"/);
  });
});
