// Profiles against the real local stack (issue 23): two users side by side, two processes at once
// across refreshes, a logout of one, `use` while a process runs, the Python SDK's set in the
// default slot, and a profile whose settings point at a second backend.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { writeDefaultProfile } from '../../src/config/config-file.js';
import { decodeJwtPayload, loginTokens } from '../helpers/backend-login.js';
import { pythonTokenFile } from '../helpers/python-format.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const CHILD = resolve(import.meta.dirname, 'profile-child.ts');

// Access tokens live 4 s: a few seconds of calls see refreshes (never before half the lifetime).
const stack = useStack({ provider: { accessTokenTtl: 4 } });
const second = useStack();

let directory: string;
let tokens: string;
let configFile: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-profiles-'));
  tokens = join(directory, 'tokens');
  configFile = join(directory, 'config.json');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The environment of a client of the first stack, its files in this test's directory. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    MESH_TOKEN_STORE: 'file',
    MESH_TOKEN_DIR: tokens,
    MESH_CONFIG_FILE: configFile,
    MESH_HEADLESS: 'true',
    ...extra,
  };
}

function client(profile: string | undefined, extra: Record<string, string> = {}, options: Record<string, unknown> = {}) {
  return new MeshClient({ env: env(extra), interactive: false, ...(profile === undefined ? {} : { profile }), ...options });
}

/** Logs `login` in on `on` and stores the set where profile `profile` keeps it (as `mesh-auth --profile` would). */
async function logIn(profile: string, login: string, on = stack) {
  const at = profile === 'default' ? tokens : join(tokens, 'profiles', profile);
  const set = await storedTokens(on, login);
  await new FileStore({ directory: at }).save(set);
  return String(decodeJwtPayload(set.access_token).sub);
}

function requestsOn(which: typeof stack): number {
  return Object.values(which.backend.counters.requests).reduce((sum, count) => sum + count, 0);
}

describe('two users side by side in two profiles', () => {
  it('each profile reads its own login and names it; the default profile stays empty', async () => {
    const alice = await logIn('personal', 'alice@example.test');
    const bob = await logIn('work', 'bob@example.test');
    expect(alice).not.toBe(bob);
    const personal = client('personal');
    const work = client('work');
    const [one, two] = await Promise.all([personal.authStatus(), work.authStatus()]);
    expect(one).toMatchObject({ loggedIn: true, profile: 'personal', credential: 'login', subject: alice });
    expect(two).toMatchObject({ loggedIn: true, profile: 'work', credential: 'login', subject: bob });
    expect(one.store).toBe(`file ${join(tokens, 'profiles', 'personal', 'token.json')}`);
    expect(two.store).toBe(`file ${join(tokens, 'profiles', 'work', 'token.json')}`);
    expect((await personal.profile()).email).toBe('alice@example.test');
    expect((await work.profile()).email).toBe('bob@example.test');
    expect(await client(undefined).authStatus()).toMatchObject({ loggedIn: false, profile: 'default' });
    await Promise.all([personal.close(), work.close()]);
  });

  it("names the person by the stored ID token's email, and says the profile, credential and store first in debug", async () => {
    const reply = await loginTokens(stack, { login: 'carol@example.test' });
    const expiresAt = Math.floor(Date.now() / 1000) + reply.expires_in;
    await new FileStore({ directory: join(tokens, 'profiles', 'carol') }).save({ ...reply, expires_at: expiresAt });
    const lines: string[] = [];
    const logger = { debug: (line: string) => lines.push(line), warn: () => {} };
    const carol = client('carol', {}, { debug: true, logger });
    expect(lines[0]).toBe(
      `Profile carol (from option); credential: login; tokens: file ${join(tokens, 'profiles', 'carol', 'token.json')}; API ${stack.apiUrl}.`,
    );
    expect(await carol.authStatus()).toMatchObject({ loggedIn: true, email: 'carol@example.test' });
    const keyed = new MeshClient({ env: env({ MESH_PROFILE: 'keyed' }), apiKey: 'mesh_pk_notreal', debug: true, logger });
    expect(lines.at(-1)).toMatch(/^Profile keyed \(from env\); credential: apiKey; tokens: none/);
    expect(keyed.config.profile).toBe('keyed');
    await carol.close();
  });
});

describe('the credential kind', () => {
  it('authStatus says login, env, tokenProvider or authToken, with the profile', async () => {
    const set = await storedTokens(stack, 'erin@example.test');
    const sub = decodeJwtPayload(set.access_token).sub;
    const fromEnv = client('ci', {
      MESH_TOKEN_STORE: '', // empty is unset
      MESH_TOKEN_FROM_ENV: 'true',
      MESH_ACCESS_TOKEN: set.access_token,
      MESH_REFRESH_TOKEN: set.refresh_token as string,
      MESH_TOKEN_EXPIRES_AT: String(set.expires_at),
    });
    expect(await fromEnv.authStatus()).toMatchObject({ loggedIn: true, profile: 'ci', credential: 'env', subject: sub });
    const provided = client('vault', {}, { tokenProvider: { getAccessToken: async () => set.access_token } });
    expect(await provided.authStatus()).toMatchObject({ loggedIn: true, profile: 'vault', credential: 'tokenProvider' });
    const fixed = client(undefined, {}, { authToken: set.access_token });
    expect(await fixed.authStatus()).toMatchObject({ loggedIn: true, profile: 'default', credential: 'authToken' });
    expect(await client(undefined).authStatus()).toMatchObject({ profile: 'default', credential: 'login' });
  });
});

/** Runs profile-child.ts with `extra` in its environment. */
/** Runs profile-child.ts; `onConfigured` is called once its client has read its configuration. */
function child(extra: Record<string, string>, onConfigured?: () => void): Promise<Record<string, unknown>> {
  const process_ = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { PATH: process.env.PATH, HOME: directory, ...env(extra) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  process_.stdout.on('data', (chunk) => {
    out += chunk;
  });
  process_.stderr.on('data', (chunk) => {
    err += chunk;
    if (err.includes('configured\n')) onConfigured?.();
  });
  return new Promise((resolvePromise, reject) =>
    process_.on('close', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolvePromise(JSON.parse(out) as Record<string, unknown>);
    }),
  );
}

describe('processes', () => {
  it('two processes at once with different MESH_PROFILE each keep their own identity across refreshes', async () => {
    const alice = await logIn('personal', 'alice@example.test');
    const bob = await logIn('work', 'bob@example.test');
    const [one, two] = await Promise.all([
      child({ MESH_PROFILE: 'personal', MESH_CHILD_MS: '6000' }),
      child({ MESH_PROFILE: 'work', MESH_CHILD_MS: '6000' }),
    ]);
    expect(one).toMatchObject({ profile: 'personal', subjects: [alice], errors: [] });
    expect(two).toMatchObject({ profile: 'work', subjects: [bob], errors: [] });
    expect(one.status).toEqual({ loggedIn: true, subject: alice, profile: 'personal' });
    expect(two.status).toEqual({ loggedIn: true, subject: bob, profile: 'work' });
    // Each refreshed at least once (4 s tokens, 6 s of calls), each into its own file.
    expect(one.tokens).toBeGreaterThan(1);
    expect(two.tokens).toBeGreaterThan(1);
    const stored = async (profile: string) =>
      decodeJwtPayload((await new FileStore({ directory: join(tokens, 'profiles', profile) }).load())?.access_token ?? '').sub;
    expect([await stored('personal'), await stored('work')]).toEqual([alice, bob]);
  }, 60_000);

  it('mesh-auth use does not change a running process; a process started afterwards follows it', async () => {
    const alice = await logIn('personal', 'alice@example.test');
    const bob = await logIn('work', 'bob@example.test');
    await writeDefaultProfile(configFile, 'personal');
    const running = client(undefined);
    expect([running.config.profile, running.config.sources.profile]).toEqual(['personal', 'file']);
    let configured: () => void = () => {};
    const chosen = new Promise<void>((resolvePromise) => {
      configured = resolvePromise;
    });
    const started = child({ MESH_CHILD_MS: '2500' }, configured);
    // Its profile is chosen (not a fixed wait, which a loaded machine outlasts); a child that dies first fails here.
    await Promise.race([chosen, started]);
    await writeDefaultProfile(configFile, 'work');
    expect(running.config.profile).toBe('personal');
    expect(await running.authStatus()).toMatchObject({ profile: 'personal', subject: alice });
    expect(await started).toMatchObject({ profile: 'personal', subjects: [alice] });
    expect(await client(undefined).authStatus()).toMatchObject({ profile: 'work', subject: bob });
    expect(await child({ MESH_CHILD_MS: '100' })).toMatchObject({ profile: 'work', subjects: [bob] });
    await running.close();
  }, 60_000);

  it('the logout of one profile leaves the other logged in', async () => {
    await logIn('personal', 'alice@example.test');
    const bob = await logIn('work', 'bob@example.test');
    const personal = client('personal');
    expect(await personal.logout()).toEqual([`file ${join(tokens, 'profiles', 'personal', 'token.json')}`]);
    expect(await personal.authStatus()).toMatchObject({ loggedIn: false, profile: 'personal' });
    const work = client('work');
    expect(await work.authStatus()).toMatchObject({ loggedIn: true, subject: bob });
    await expect(stat(join(tokens, 'profiles', 'work', 'token.json'))).resolves.toBeTruthy();
  });
});

describe('a corrupt file', () => {
  it("in one profile is moved aside there, and the other profile's login and file are untouched", async () => {
    const alice = await logIn('personal', 'alice@example.test');
    await logIn('work', 'bob@example.test');
    const personalFile = join(tokens, 'profiles', 'personal', 'token.json');
    const before = await readFile(personalFile, 'utf8');
    await writeFile(join(tokens, 'profiles', 'work', 'token.json'), '{ not json', { mode: 0o600 });
    const warnings: string[] = [];
    const work = client('work', {}, { logger: { debug: () => {}, warn: (line: string) => warnings.push(line) } });
    expect(await work.authStatus()).toMatchObject({ loggedIn: false, profile: 'work' });
    expect(warnings.join('\n')).toMatch(
      /profiles\/work\/token\.json: it is not a token set.*Moved it to .*profiles\/work\/token\.json\.corrupt-/s,
    );
    expect(await readFile(personalFile, 'utf8')).toBe(before);
    expect(await client('personal').authStatus()).toMatchObject({ loggedIn: true, subject: alice });
  });
});

describe('the default slot', () => {
  it("keeps the Python SDK's set: read by the default profile, untouched by the named ones", async () => {
    const reply = await loginTokens(stack, { login: 'python@example.test' });
    const python = pythonTokenFile({ ...reply, auth_source: 'device_flow' } as typeof reply);
    await writeFile(join(await mkdirp(tokens), 'token.json'), python, { mode: 0o600 });
    const bob = await logIn('work', 'bob@example.test');
    const work = client('work');
    await work.tokenSet();
    expect(await work.authStatus()).toMatchObject({ loggedIn: true, subject: bob });
    await work.logout();
    expect(await readFile(join(tokens, 'token.json'), 'utf8')).toBe(python);
    const status = await client('default').authStatus();
    expect(status).toMatchObject({ loggedIn: true, profile: 'default' });
    expect(status.subject).toBe(decodeJwtPayload(reply.access_token).sub);
    expect(await readFile(join(tokens, 'token.json'), 'utf8')).toBe(python);
  });
});

describe('MESH_PYTHON_TOKEN_FILE', () => {
  it('backs the default profile only: a named profile neither reads it nor writes to it', async () => {
    const reply = await loginTokens(stack, { login: 'python@example.test' });
    const file = join(directory, '.mesh_token.json');
    const python = pythonTokenFile(reply);
    await writeFile(file, python, { mode: 0o600 });
    const named = client('work', { MESH_PYTHON_TOKEN_FILE: file });
    expect(await named.authStatus()).toMatchObject({ loggedIn: false, profile: 'work' });
    const byDefault = client(undefined, { MESH_PYTHON_TOKEN_FILE: file });
    expect(await byDefault.authStatus()).toMatchObject({ loggedIn: true, subject: decodeJwtPayload(reply.access_token).sub });
    expect(await readFile(file, 'utf8')).toBe(python);
  });
});

async function mkdirp(path: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

describe('a profile pointing at a second backend', () => {
  it('talks to that backend only: its settings come from config.json', async () => {
    await writeFile(
      configFile,
      JSON.stringify({
        profiles: {
          staging: {
            apiUrl: second.apiUrl,
            auth0Domain: second.auth0.domain,
            auth0ClientId: second.auth0.clientId,
            auth0Audience: second.auth0.audience,
          },
        },
      }),
      { mode: 0o600 },
    );
    const subject = await logIn('staging', 'dana@example.test', second);
    // No MESH_API_URL or AUTH0_* in the environment: the environment would win over the file.
    const staging = new MeshClient({
      env: { MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: tokens, MESH_CONFIG_FILE: configFile, MESH_HEADLESS: 'true' },
      profile: 'staging',
      interactive: false,
    });
    expect([staging.config.apiUrl, staging.config.sources.apiUrl, staging.config.sources['auth0.domain']]).toEqual([
      second.apiUrl,
      'file',
      'file',
    ]);
    const first = requestsOn(stack);
    const before = requestsOn(second);
    expect(await staging.authStatus()).toMatchObject({ loggedIn: true, subject, profile: 'staging' });
    expect((await staging.profile()).email).toBe('dana@example.test');
    await staging.listKeys();
    expect(requestsOn(second) - before).toBeGreaterThanOrEqual(3);
    expect(requestsOn(stack)).toBe(first);
    await staging.close();
  });
});
