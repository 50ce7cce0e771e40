// The built CLIs with profiles (issue 23), against the local stack: --profile before and after the
// command word, bad names, `use`, `status --all` (human and --json), logout of one profile, mesh-env.
// Tokens are put where each profile keeps them by a real login over HTTP (no browser needed).
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { who } from '../../src/cli/cli-client.js';
import { decodeJwtPayload } from '../helpers/backend-login.js';
import { finished, runBin, startBin, waitForStderr } from '../helpers/bins.js';
import { approveDevice, chromiumInstalled, launchChromium, loopbackContext } from '../helpers/browser.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack({ provider: { deviceInterval: 1 } });

let home: string;
let env: NodeJS.ProcessEnv;
const mesh = () => join(home, '.mesh');
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mesh-cli-profiles-'));
  // Only HOME: the token directory and the configuration file at their defaults (~/.mesh).
  env = { PATH: process.env.PATH, HOME: home, ...stack.env, MESH_TOKEN_STORE: 'file', MESH_HEADLESS: 'true' };
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A real login of `login`, stored where `profile` keeps its tokens; answers the set. */
async function logIn(profile: string, login: string) {
  const set = await storedTokens(stack, login);
  await new FileStore({ directory: profile === 'default' ? mesh() : join(mesh(), 'profiles', profile) }).save(set);
  return set;
}

describe('--profile', () => {
  it.each([
    [['--profile', 'a/b', 'status']],
    [['status', '--profile', '..']],
    [['token', '--profile=my work']],
    [['status', '--profile', 'x'.repeat(65)]],
  ])('%j is refused with the rule, exit 1, nothing written', async (args) => {
    const result = await runBin('mesh-auth', args, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/option profile is invalid: got .*; expected a profile name: letters, digits/);
    await expect(stat(mesh())).rejects.toThrow(/ENOENT/);
  });

  it('before or after the command word, abbreviated too, mesh-auth status names the profile and the person', async () => {
    await logIn('work', 'bob@example.test');
    for (const args of [
      ['--profile', 'work', 'status'],
      ['status', '--profile', 'work'],
      ['--prof=work', 'status'],
      ['status', '--pro', 'work'],
    ]) {
      const result = await runBin('mesh-auth', args, env);
      expect([result.code, result.stderr], args.join(' ')).toEqual([
        0,
        expect.stringContaining('✓ Logged in as bob@example.test'),
      ]);
      expect(result.stderr).toContain('  Profile: work\n');
      expect(result.stderr).toContain(`Tokens: file ${join(mesh(), 'profiles', 'work', 'token.json')}`);
    }
    const other = await runBin('mesh-auth', ['status'], env);
    expect([other.code, other.stderr]).toEqual([1, expect.stringContaining('  Profile: default\n')]);
    const json = JSON.parse((await runBin('mesh-auth', ['status', '--json', '--profile', 'work'], env)).stdout);
    expect(json).toMatchObject({ profile: 'work', credential: 'login', loggedIn: true, email: 'bob@example.test' });
  });

  it("token and print-tokens --profile print that profile's token, and only it", async () => {
    const bob = await logIn('work', 'bob@example.test');
    const alice = await logIn('personal', 'alice@example.test');
    const token = await runBin('mesh-auth', ['token', '--profile', 'work'], env);
    expect([token.code, token.stdout]).toEqual([0, `${bob.access_token}\n`]);
    const other = await runBin('mesh-auth', ['--profile', 'personal', 'token'], env);
    expect(other.stdout).toBe(`${alice.access_token}\n`);
    const lines = await runBin('mesh-auth', ['print-tokens', '--profile', 'work'], env);
    expect(lines.stdout).toContain(`MESH_REFRESH_TOKEN=${bob.refresh_token}`);
    expect(lines.stdout).not.toContain(alice.refresh_token);
  });

  it('logout --profile work leaves the other profile logged in', async () => {
    await logIn('personal', 'alice@example.test');
    await logIn('work', 'bob@example.test');
    const logout = await runBin('mesh-auth', ['logout', '--profile', 'work'], env);
    expect([logout.code, logout.stderr]).toEqual([0, expect.stringContaining('Logged out of profile work')]);
    expect((await runBin('mesh-auth', ['status', '--profile', 'work'], env)).code).toBe(1);
    const personal = await runBin('mesh-auth', ['--profile', 'personal', 'status'], env);
    expect([personal.code, personal.stderr]).toEqual([0, expect.stringContaining('Logged in as alice@example.test')]);
  });

  it("mesh-env --profile writes that profile's tokens, and prints none", async () => {
    const set = await logIn('work', 'bob@example.test');
    await logIn('personal', 'alice@example.test');
    const file = join(home, 'work.env');
    const result = await runBin('mesh-env', ['-o', file, '--profile', 'work'], env, home);
    expect(result.code).toBe(0);
    const written = await readFile(file, 'utf8');
    const access = /MESH_ACCESS_TOKEN=(\S+)/.exec(written)?.[1] ?? '';
    expect(decodeJwtPayload(access).sub).toBe(decodeJwtPayload(set.access_token).sub);
    expect(result.stdout + result.stderr).not.toContain(access);
  });
});

describe('mesh-auth use', () => {
  it('writes defaultProfile to ~/.mesh/config.json (0600, other keys kept), and new processes follow it', async () => {
    await logIn('work', 'bob@example.test');
    await writeFile(join(await mkdirp(mesh()), 'config.json'), JSON.stringify({ profiles: { work: { defaultModel: 'gpt-x' } } }));
    const before = await runBin('mesh-auth', ['use'], env);
    expect([before.code, before.stdout]).toEqual([0, 'default\n']);
    const use = await runBin('mesh-auth', ['use', 'work'], env);
    expect([use.code, use.stderr]).toEqual([0, expect.stringContaining('Processes started from now on use profile "work"')]);
    expect(use.stderr).toContain('Running processes keep the profile they started with');
    const file = join(mesh(), 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      profiles: { work: { defaultModel: 'gpt-x' } },
      defaultProfile: 'work',
    });
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect((await runBin('mesh-auth', ['use'], env)).stdout).toBe('work\n');
    const status = await runBin('mesh-auth', ['status'], env);
    expect([status.code, status.stderr]).toEqual([0, expect.stringContaining('Logged in as bob@example.test')]);
    // MESH_PROFILE still wins, and `use` says so.
    const shell = await runBin('mesh-auth', ['use', 'work'], { ...env, MESH_PROFILE: 'personal' });
    expect(shell.stderr).toContain('This shell sets MESH_PROFILE=personal, which wins over it');
  });

  it.each([['../x'], ['a/b'], ['.']])('refuses %j, exit 1, writing nothing', async (name) => {
    const result = await runBin('mesh-auth', ['use', name], env);
    expect([result.code, result.stderr]).toEqual([1, expect.stringMatching(/is not a profile name: got .*letters, digits/)]);
    await expect(stat(join(mesh(), 'config.json'))).rejects.toThrow(/ENOENT/);
  });

  it('a config.json others may write is refused by every command', async () => {
    const file = join(await mkdirp(mesh()), 'config.json');
    await writeFile(file, JSON.stringify({ defaultProfile: 'work' }));
    await chmod(file, 0o666);
    for (const args of [['status'], ['use', 'work'], ['token']]) {
      const result = await runBin('mesh-auth', args, env);
      expect([result.code, result.stderr], args.join(' ')).toEqual([
        1,
        expect.stringContaining('other users may write it (mode 666)'),
      ]);
    }
  });
});

describe('mesh-auth status --all', () => {
  it('lists every profile found, each with who, until when, which store and which deployment', async () => {
    const alice = await logIn('default', 'alice@example.test');
    const bob = await logIn('work', 'bob@example.test');
    await writeFile(join(mesh(), 'config.json'), JSON.stringify({ defaultProfile: 'work', profiles: { staging: {} } }), {
      mode: 0o600,
    });
    const json = await runBin('mesh-auth', ['status', '--all', '--json'], env);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((row) => row.profile)).toEqual(['default', 'staging', 'work']);
    const [first, staging, work] = rows;
    expect(first).toEqual({
      profile: 'default',
      loggedIn: true,
      email: 'alice@example.test',
      subject: decodeJwtPayload(alice.access_token).sub,
      expiresAt: alice.expires_at,
      store: `file ${join(mesh(), 'token.json')}`,
      apiUrl: stack.apiUrl,
    });
    expect(work).toMatchObject({ profile: 'work', loggedIn: true, email: 'bob@example.test', expiresAt: bob.expires_at });
    expect(staging).toEqual({
      profile: 'staging',
      loggedIn: false,
      email: null,
      subject: null,
      expiresAt: null,
      store: `file ${join(mesh(), 'profiles', 'staging', 'token.json')}`,
      apiUrl: stack.apiUrl,
      reason: 'no tokens stored',
    });
    expect(json.stdout + json.stderr).not.toContain(alice.access_token);

    const human = await runBin('mesh-auth', ['status', '--all'], env);
    expect(human.code).toBe(0);
    const until = new Date((bob.expires_at as number) * 1000).toISOString();
    expect(human.stderr).toContain(`✓ work (current): logged in as bob@example.test, until ${until}`);
    expect(human.stderr).toContain('✓ default: logged in as alice@example.test');
    expect(human.stderr).toContain('✗ staging: not logged in (no tokens stored)');
    expect(human.stderr).toContain(`    API: ${stack.apiUrl}`);
  });

  it('exits 1 when no profile is logged in', async () => {
    const result = await runBin('mesh-auth', ['status', '--all', '--json'], env);
    expect([result.code, JSON.parse(result.stdout)]).toEqual([
      1,
      [expect.objectContaining({ profile: 'default', loggedIn: false })],
    ]);
  });
});

it('names a person without an e-mail address by the subject, saying so', () => {
  const status = { loggedIn: true, profile: 'p', credential: 'login' as const, store: 'memory', subject: 'auth0|abc' };
  expect(who(status, undefined)).toBe('auth0|abc (no e-mail address on this account)');
  expect(who(status, 'backend@example.test')).toBe('backend@example.test');
  expect(who({ ...status, email: 'id-token@example.test' }, 'backend@example.test')).toBe('id-token@example.test');
});

async function mkdirp(path: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

describe.skipIf(!chromiumInstalled())('a device login into a named profile', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("lands in that profile only, and status names the person by the ID token's e-mail, not the backend's stand-in", async () => {
    const child = startBin('mesh-auth', ['--profile', 'dev', 'login', '--headless'], env);
    const result = finished(child);
    const url = await waitForStderr(child, /http:\/\/127\.0\.0\.1:\d+\/activate\?user_code=\S+/);
    const context = await loopbackContext(browser);
    await approveDevice(await context.newPage(), url);
    const login = await result;
    await context.close();
    expect([login.code, login.stderr]).toEqual([
      0,
      expect.stringContaining('✓ Logged in as device-user@example.test (profile dev).'),
    ]);
    const stored = JSON.parse(await readFile(join(mesh(), 'profiles', 'dev', 'token.json'), 'utf8'));
    expect(stored.id_token).toEqual(expect.any(String));
    await expect(stat(join(mesh(), 'token.json'))).rejects.toThrow(/ENOENT/);
    // The backend saw no ID token in a device login: its profile says <sub>@unknown.test.
    const status = await runBin('mesh-auth', ['status', '--profile', 'dev'], env);
    expect([status.code, status.stderr]).toEqual([0, expect.stringContaining('✓ Logged in as device-user@example.test\n')]);
    expect(status.stderr).not.toContain('@unknown.test');
    const all = JSON.parse((await runBin('mesh-auth', ['status', '--all', '--json'], env)).stdout) as {
      profile: string;
      email: string;
    }[];
    expect(all.map(({ profile, email }) => [profile, email])).toEqual([
      ['default', null],
      ['dev', 'device-user@example.test'],
    ]);
  }, 90_000);
});
