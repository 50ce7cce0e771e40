// Profiles (issue 23): the name's rule, the user configuration file (shape, precedence, sources,
// trust), and where each profile's tokens live in every store.
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore, keychainSlotFor, redisKeyFor } from '../../src/auth/stores/create-token-store.js';
import { defaultRedisKey } from '../../src/auth/stores/redis-store.js';
import { resolveConfig } from '../../src/client/configuration.js';
import { writeDefaultProfile } from '../../src/config/config-file.js';
import { resolveConfig as resolveWithoutFile } from '../../src/config/resolve.js';
import { DEFAULT_API_URL, DEFAULT_AUTH0_AUDIENCE } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors/mesh-error.js';

let directory: string;
let configFile: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-profiles-'));
  configFile = join(directory, 'config.json');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeConfig(json: unknown, mode = 0o600): Promise<void> {
  await writeFile(configFile, JSON.stringify(json));
  await chmod(configFile, mode);
}

/** A client's configuration with only `env` as its environment, the file at `configFile`. */
function configWith(env: Record<string, string> = {}, options: Record<string, unknown> = {}) {
  return resolveConfig({ env: { MESH_CONFIG_FILE: configFile, ...env }, ...options });
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no ConfigError was thrown');
}

describe('the profile name', () => {
  it.each([
    ['unset', {}, {}],
    ['empty', { MESH_PROFILE: '' }, {}],
    ['default', { MESH_PROFILE: 'default' }, {}],
    ['an empty option', {}, { profile: '' }],
  ])('%s is the default profile', (_what, env, options) => {
    expect(configWith(env, options).profile).toBe('default');
  });

  it.each(['work', 'a', 'Work.2-b_c', 'x'.repeat(64), '...', '.hidden'])('takes %j', (name) => {
    expect(configWith({ MESH_PROFILE: name }).profile).toBe(name);
    expect(configWith({}, { profile: name }).profile).toBe(name);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a parent', '..'],
    ['a dot', '.'],
    ['a path', '../other'],
    ['65 characters', 'x'.repeat(65)],
    ['a space', 'my work'],
    ['a leading space', ' work'],
    ['a backslash', 'a\\b'],
    ['a colon', 'a:b'],
    ['a NUL', 'a\0b'],
  ])('refuses %s, naming the rule, before any path is built', (_what, name) => {
    const fromOption = configError(() => configWith({}, { profile: name }));
    expect(fromOption.message).toMatch(/option profile is invalid/);
    expect(fromOption.message).toContain('letters, digits, ".", "_" and "-" only, 1 to 64 of them, and not "." or ".."');
    const fromEnv = configError(() => configWith({ MESH_PROFILE: name }));
    expect(fromEnv.message).toMatch(/environment variable MESH_PROFILE is invalid/);
  });

  it('comes from the option, then MESH_PROFILE, then defaultProfile, then default; sources.profile says which', async () => {
    await writeConfig({ defaultProfile: 'fromfile' });
    expect([configWith().profile, configWith().sources.profile]).toEqual(['fromfile', 'file']);
    const env = configWith({ MESH_PROFILE: 'fromenv' });
    expect([env.profile, env.sources.profile]).toEqual(['fromenv', 'env']);
    const option = configWith({ MESH_PROFILE: 'fromenv' }, { profile: 'fromoption' });
    expect([option.profile, option.sources.profile]).toEqual(['fromoption', 'option']);
    await rm(configFile);
    expect([configWith().profile, configWith().sources.profile]).toEqual(['default', 'default']);
  });

  it('mesh-sdk/server and others resolving without the file reader never read a file', async () => {
    await writeConfig({ defaultProfile: 'fromfile', profiles: { fromfile: { apiUrl: 'https://file.example' } } });
    const config = resolveWithoutFile({ env: { MESH_CONFIG_FILE: configFile } });
    expect([config.profile, config.apiUrl]).toEqual(['default', DEFAULT_API_URL]);
  });
});

describe('the configuration file', () => {
  const work = {
    apiUrl: 'https://mesh.work.example',
    auth0Domain: 'work.eu.auth0.com',
    auth0ClientId: 'work-client',
    auth0Audience: 'https://api.work.example',
    defaultProvider: 'Anthropic',
    defaultModel: 'claude-x',
    tokenStore: 'file',
  };

  it("gives a profile its settings, each parsed by its setting's rule, with sources saying file", async () => {
    await writeConfig({ profiles: { work } });
    const config = configWith({ MESH_PROFILE: 'work' });
    expect(config.apiUrl).toBe('https://mesh.work.example');
    expect(config.auth0).toEqual({
      domain: 'https://work.eu.auth0.com',
      clientId: 'work-client',
      audience: 'https://api.work.example',
    });
    expect([config.defaultProvider, config.defaultModel, config.tokenStore]).toEqual(['anthropic', 'claude-x', 'file']);
    for (const key of [
      'apiUrl',
      'auth0.domain',
      'auth0.clientId',
      'auth0.audience',
      'defaultProvider',
      'defaultModel',
      'tokenStore',
    ]) {
      expect(config.sources[key], key).toBe('file');
    }
    expect(config.configFile).toBe(configFile);
    // Another profile, and the default one, get none of them.
    const other = configWith({ MESH_PROFILE: 'other' });
    expect([other.apiUrl, other.sources.apiUrl, other.tokenStore]).toEqual([DEFAULT_API_URL, 'default', 'auto']);
    expect(configWith().apiUrl).toBe(DEFAULT_API_URL);
  });

  it('loses to the environment and to options, field by field', async () => {
    await writeConfig({ profiles: { work } });
    const config = configWith(
      { MESH_PROFILE: 'work', MESH_API_URL: 'https://env.example', MESH_TOKEN_STORE: 'memory' },
      { defaultModel: 'option-model' },
    );
    expect([config.apiUrl, config.sources.apiUrl]).toEqual(['https://env.example', 'env']);
    expect([config.tokenStore, config.sources.tokenStore]).toEqual(['memory', 'env']);
    expect([config.defaultModel, config.sources.defaultModel]).toEqual(['option-model', 'option']);
    expect([config.auth0.clientId, config.sources['auth0.clientId']]).toEqual(['work-client', 'file']);
  });

  it("MESH_TOKEN_FROM_ENV=true wins over the profile's tokenStore", async () => {
    await writeConfig({ profiles: { work: { tokenStore: 'file' } } });
    const config = configWith({ MESH_PROFILE: 'work', MESH_TOKEN_FROM_ENV: 'true' });
    expect([config.tokenStore, config.sources.tokenStore]).toEqual(['env', 'env']);
  });

  it.each([
    [
      'a bad value',
      { profiles: { work: { apiUrl: 'http://plain.example' } } },
      /"profiles\.work\.apiUrl" in .*config\.json is invalid/,
    ],
    [
      'a bad store',
      { profiles: { work: { tokenStore: 'floppy' } } },
      /"profiles\.work\.tokenStore" in .*config\.json is invalid/,
    ],
    ['an unknown setting', { profiles: { work: { apiurl: 'https://x.example' } } }, /unknown key "profiles\.work\.apiurl"/],
    ['an unknown top-level key', { defaultProfiles: 'work' }, /unknown key "defaultProfiles"/],
    ['a bad profile name', { profiles: { 'a/b': {} } }, /the profile "a\/b" has no valid name/],
    ['a bad defaultProfile', { defaultProfile: '..' }, /"defaultProfile" is "\.\.", not a profile name/],
    ['not an object', [1, 2], /not a JSON object/],
  ])('%s is a ConfigError naming the file and the key', async (_what, json, message) => {
    await writeConfig(json);
    const error = configError(() => configWith({ MESH_PROFILE: 'work' }));
    expect(error.message).toMatch(message);
    expect(error.message).toContain(configFile);
  });

  it('not JSON is a ConfigError naming the file', async () => {
    await writeFile(configFile, '{ "defaultProfile": ', { mode: 0o600 });
    expect(configError(() => configWith()).message).toMatch(/config\.json is not a valid mesh-sdk configuration: it is not JSON/);
  });

  it.each([0o622, 0o602, 0o620, 0o666])('a file others may write (mode %o) is refused', async (mode) => {
    await writeConfig({ defaultProfile: 'planted', profiles: { planted: { apiUrl: 'https://evil.example' } } }, mode);
    const error = configError(() => configWith());
    expect(error.message).toMatch(/other users may write it \(mode 6\d\d\)/);
    expect(error.hint).toContain(`chmod 600 ${configFile}`);
  });

  it('a file only others may read is fine (it holds no secret)', async () => {
    await writeConfig({ defaultProfile: 'work' }, 0o644);
    expect(configWith().profile).toBe('work');
  });

  it('a directory in its place is refused; a missing file is fine', async () => {
    expect(configWith().profile).toBe('default');
    configFile = directory;
    expect(configError(() => configWith()).message).toMatch(/not a regular file/);
  });

  it('writeDefaultProfile keeps the other keys, writes 0600 atomically, and refuses to rewrite a bad file', async () => {
    await writeConfig({ profiles: { work } }, 0o644);
    await writeDefaultProfile(configFile, 'work');
    expect(((await stat(configFile)).mode & 0o777).toString(8)).toBe('600');
    const config = configWith();
    expect([config.profile, config.apiUrl]).toEqual(['work', 'https://mesh.work.example']);
    await writeFile(configFile, '{ "oops": 1 }');
    await expect(writeDefaultProfile(configFile, 'work')).rejects.toThrow(/unknown key "oops"/);
    const fresh = join(directory, 'new', 'config.json');
    await writeDefaultProfile(fresh, 'staging');
    expect(((await stat(join(directory, 'new'))).mode & 0o777).toString(8)).toBe('700');
  });
});

describe("each profile's place in every store", () => {
  const base = {
    apiUrl: DEFAULT_API_URL,
    auth0: {
      domain: 'https://dev-hzpwy8oqs2ojss6r.us.auth0.com',
      clientId: 'Ky6gtf5PPUs1IpIFdm91ttQs4Oxpj0Nq',
      audience: DEFAULT_AUTH0_AUDIENCE,
    },
  };

  it('the default profile keeps the Python SDK keychain slot, tokens@host elsewhere; a named one its own', () => {
    expect(keychainSlotFor({ ...base, profile: 'default' })).toEqual({ account: 'default', shared: true });
    expect(keychainSlotFor({ ...base, profile: 'work' })).toEqual({ account: 'work', shared: false });
    const local = { ...base, apiUrl: 'http://127.0.0.1:4000', profile: 'default' };
    expect(keychainSlotFor(local)).toEqual({ account: 'tokens@127.0.0.1:4000', shared: false });
    expect(keychainSlotFor({ ...local, profile: 'work' })).toEqual({ account: 'work@127.0.0.1:4000', shared: false });
  });

  it('the Redis key: unchanged for default, the profile after it for a named one, a named key as given', () => {
    const key = defaultRedisKey(DEFAULT_API_URL, DEFAULT_AUTH0_AUDIENCE);
    expect(redisKeyFor({ ...base, tokenStoreKey: undefined, profile: 'default' })).toBe(key);
    expect(redisKeyFor({ ...base, tokenStoreKey: undefined, profile: 'work' })).toBe(`${key}:profile:work`);
    // No profile's key is another's lock (`<key>:lock`).
    expect(redisKeyFor({ ...base, tokenStoreKey: undefined, profile: 'lock' })).not.toBe(`${key}:lock`);
    expect(redisKeyFor({ ...base, tokenStoreKey: 'mine', profile: 'work' })).toBe('mine');
  });

  it('the file and its lock: <dir>/token.json for default, <dir>/profiles/<name>/token.json for a named one', () => {
    const tokens = join(directory, 'tokens');
    const at = (env: Record<string, string>) => {
      const selection = createTokenStore(configWith({ MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: tokens, ...env }));
      return [selection.store.describe(), selection.directory];
    };
    expect(at({})).toEqual([`file ${join(tokens, 'token.json')}`, tokens]);
    expect(at({ MESH_PROFILE: 'default' })).toEqual([`file ${join(tokens, 'token.json')}`, tokens]);
    const work = join(tokens, 'profiles', 'work');
    expect(at({ MESH_PROFILE: 'work' })).toEqual([`file ${join(work, 'token.json')}`, work]);
  });
});
