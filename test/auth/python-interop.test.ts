// One machine, two SDKs (issue 11 item 5): what the Python SDK writes (mesh/token_manager.py
// 1.5.4, mesh/auth.py 1.5.5) is read here, and our rewrites keep every field it wrote, in a form
// it reads back: the keychain slot mesh-sdk/default (real gnome-keyring), ~/.mesh/token.json, and
// its headless `.mesh_token.json` as an import source whose family stays in that file.
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore } from '../../src/auth/stores/create-token-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainClient } from '../../src/auth/stores/keychain/keychain-client.js';
import type { LayeredStore } from '../../src/auth/stores/layered-store.js';
import { PythonTokenFile, pythonHeadlessTokenPaths } from '../../src/auth/stores/python-token-file.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { tokenSetFromReply } from '../../src/auth/tokens/token-set.js';
import { assembleClient } from '../../src/client/assemble.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { deviceFlowTokens, loginTokens } from '../helpers/backend-login.js';
import { keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { recordingLogger } from '../helpers/logger.js';
import { pythonDumps } from '../helpers/python-format.js';
import { useStack } from '../helpers/stack.js';

const installed = keychainToolsInstalled();

// Byte for byte what Python's `json.dumps(token_data)` produced for a device-flow login whose
// `expires_at` a float (checked with python3 3.11): ", " and ": " separators, the reply's own
// `expires_in`, and the device-origin marker.
const PYTHON_DEVICE_SET =
  '{"access_token": "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21lc2gtYWJoNS5vbnJlbmRlci5jb20ifQ.c2ln", ' +
  '"refresh_token": "v1.python-refresh", "id_token": "eyJ0eXAiOiJKV1QifQ.e30.c2ln", ' +
  '"scope": "openid profile email offline_access", "expires_in": 86400, "token_type": "Bearer", ' +
  '"expires_at": 1900000000.5, "auth_source": "device_flow"}';
const PYTHON_FIELDS = Object.keys(JSON.parse(PYTHON_DEVICE_SET)).sort();

const REPLY = { access_token: 'new.access.token', refresh_token: 'v1.rotated', token_type: 'Bearer', expires_in: 3600 };

let root: string;
let logger: ReturnType<typeof recordingLogger>;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mesh-python-interop-'));
  logger = recordingLogger();
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** Checks a rewritten set: every field Python wrote is there, in a form Python reads. */
function expectPythonReadable(text: string, changed: Record<string, unknown>) {
  const written = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(written).sort()).toEqual(PYTHON_FIELDS);
  expect(written).toMatchObject({ auth_source: 'device_flow', scope: 'openid profile email offline_access', ...changed });
  // token_manager.py: `time.time() < expires_at - 300`: a number, never a string.
  expect(typeof written.expires_at).toBe('number');
  expect(written).not.toHaveProperty('mesh_chunks');
}

describe.skipIf(!installed)("the Python SDK's keychain slot (mesh-sdk/default) on a real Secret Service", () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus.stop());

  it('for the default deployment: reads the set Python stored (auth_source, float expires_at), and a refresh rewrite keeps every field', async () => {
    const python = new KeychainClient({ service: 'mesh-sdk', env: bus.env });
    await python.set('default', PYTHON_DEVICE_SET);
    try {
      const config = resolveConfig({ env: {}, headless: false }); // MESH_API_URL and Auth0 settings all default
      const { store } = createTokenStore(config, {
        env: {},
        tokenDirectory: join(root, '.mesh'),
        keychain: { env: bus.env },
        logger,
      });
      const loaded = (await store.load()) as TokenSet;
      expect(loaded).toMatchObject({ refresh_token: 'v1.python-refresh', auth_source: 'device_flow', expires_at: 1_900_000_000 });
      expect(store.describe()).toMatch(/account default, shared with the Python SDK/);

      // What the token manager does on a refresh: the new set from the reply, in the old one's family.
      const refreshed = tokenSetFromReply(REPLY, 1_800_000_000, loaded);
      expect(refreshed.auth_source).toBe('device_flow');
      await store.save({ ...refreshed });
      const text = (await python.get('default')) as string;
      expectPythonReadable(text, {
        access_token: 'new.access.token',
        refresh_token: 'v1.rotated',
        expires_in: 3600,
        expires_at: 1_800_003_600,
      });
      expect(JSON.parse(text).id_token).toBe('eyJ0eXAiOiJKV1QifQ.e30.c2ln');
      // Nothing went to the file: one family, one place.
      expect(await readdir(root)).toEqual([]);
    } finally {
      await python.delete('default');
      python.close();
    }
  });

  it('another deployment never touches the shared slot', async () => {
    const python = new KeychainClient({ service: 'mesh-sdk', env: bus.env });
    await python.set('default', PYTHON_DEVICE_SET);
    try {
      const config = resolveConfig({ env: { MESH_API_URL: 'http://127.0.0.1:4999' }, headless: false });
      const { store } = createTokenStore(config, {
        env: {},
        tokenDirectory: join(root, '.mesh'),
        keychain: { env: bus.env },
        logger,
      });
      expect(await store.load()).toBeNull();
      await store.save({ access_token: 'local.stack.token', expires_at: 1 });
      expect(await python.get('default')).toBe(PYTHON_DEVICE_SET);
      expect(await python.get('tokens@127.0.0.1:4999')).toMatch(/local\.stack\.token/);
    } finally {
      await python.delete('default');
      await python.delete('tokens@127.0.0.1:4999');
      python.close();
    }
  });
});

describe('~/.mesh/token.json as the Python SDK writes it', () => {
  it('is read (auth_source, float expires_at) and a rewrite keeps every field, as a number of epoch seconds', async () => {
    const file = new FileStore({ directory: join(root, '.mesh'), logger });
    await mkdir(file.directory, { recursive: true });
    await writeFile(file.path, PYTHON_DEVICE_SET, { mode: 0o600 });
    const loaded = (await file.load()) as TokenSet;
    expect(loaded).toMatchObject({ auth_source: 'device_flow', expires_at: 1_900_000_000 });
    await file.save(tokenSetFromReply(REPLY, 1_800_000_000, loaded));
    expectPythonReadable(await readFile(file.path, 'utf8'), { access_token: 'new.access.token', expires_at: 1_800_003_600 });
  });

  it('a login (no previous set) starts a new family: no auth_source or stale fields carried over', () => {
    const fresh = tokenSetFromReply(REPLY, 1_800_000_000);
    expect(fresh.auth_source).toBeUndefined();
    expect(JSON.parse(JSON.stringify(fresh))).toEqual({
      access_token: 'new.access.token',
      refresh_token: 'v1.rotated',
      token_type: 'Bearer',
      expires_at: 1_800_003_600,
    });
  });
});

describe("the Python SDK's headless .mesh_token.json, shared only when named (MESH_PYTHON_TOKEN_FILE)", () => {
  const stack = useStack({ provider: { accessTokenTtl: 30 } });

  async function pythonHeadlessFile(directory: string, extra: Record<string, unknown> = {}): Promise<string> {
    const reply = await loginTokens(stack);
    const path = join(directory, '.mesh_token.json');
    // auth.py: the reply as it came, plus `expires_at = int(time.time()) + expires_in`.
    await writeFile(path, pythonDumps({ ...reply, expires_at: Math.floor(Date.now() / 1000) + reply.expires_in, ...extra }));
    return path;
  }
  const selectFor = (named: string | undefined) => {
    const env = { ...stack.env, MESH_TOKEN_STORE: 'file', ...(named ? { MESH_PYTHON_TOKEN_FILE: named } : {}) };
    return createTokenStore(resolveConfig({ env }), { env, tokenDirectory: join(root, '.mesh'), logger });
  };

  it('the places the Python SDK writes it ($CWD/.mesh_token.json, then /tmp/.mesh_token.json) are only defaults for import-python', () => {
    expect(pythonHeadlessTokenPaths('/srv/app')).toEqual([
      join('/srv/app', '.mesh_token.json'),
      join(sep, 'tmp', '.mesh_token.json'),
    ]);
  });

  it('not named: a .mesh_token.json is never read, cleared or listed, wherever it is', async () => {
    await pythonHeadlessFile(root);
    const { store } = selectFor(undefined);
    expect(await store.load()).toBeNull();
    expect((store as LayeredStore).places().join(' ')).not.toContain('.mesh_token.json');
    await store.clear();
    expect(await readdir(root)).toContain('.mesh_token.json');
  });

  it('named: when our stores hold nothing, it is used, and a save goes back to that file only', async () => {
    const path = await pythonHeadlessFile(root);
    const { store } = selectFor(path);
    const loaded = (await store.load()) as TokenSet;
    expect(loaded.refresh_token).toBeTruthy();
    expect(store.describe()).toContain(path);
    await store.save({ ...loaded, access_token: 'rotated.access.token' });
    expect(JSON.parse(await readFile(path, 'utf8')).access_token).toBe('rotated.access.token');
    await expect(lstat(join(root, '.mesh', 'token.json'))).rejects.toThrow(/ENOENT/);
    expect(logger.warnings.join('\n')).not.toContain(loaded.refresh_token as string);
  });

  it('named: a refresh by the token manager rewrites that file in place: one family, every field kept', async () => {
    const path = await pythonHeadlessFile(root, { expires_at: Math.floor(Date.now() / 1000) - 10, python_only: 'kept' });
    const before = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const env = { ...stack.env, MESH_TOKEN_STORE: 'file', MESH_PYTHON_TOKEN_FILE: path };
    const { session } = assembleClient({ env, logger }, { tokenDirectory: join(root, '.mesh') });
    const token = await session?.manager.getAccessToken();
    expect(token).not.toBe(before.access_token);
    const after = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(after.access_token).toBe(token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after.python_only).toBe('kept');
    expect(after.expires_in).toBeTypeOf('number');
    expect(await readdir(join(root, '.mesh')).catch(() => [])).not.toContain('token.json');
  });

  it('named: not used when our own file holds a set', async () => {
    const path = await pythonHeadlessFile(root);
    await new FileStore({ directory: join(root, '.mesh') }).save({
      access_token: 'ours.access.token',
      expires_at: 2_000_000_000,
    });
    const { store } = selectFor(path);
    expect((await store.load())?.access_token).toBe('ours.access.token');
    expect(logger.warnings).toEqual([]);
  });

  it("named: refused with a warning when it is a symlink, another user's file, or for another deployment (audience)", async () => {
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    const real = await pythonHeadlessFile(elsewhere);
    const linked = join(root, 'linked');
    await mkdir(linked);
    await symlink(real, join(linked, '.mesh_token.json'));
    const audience = stack.auth0.audience;
    expect(
      await new PythonTokenFile({ path: join(linked, '.mesh_token.json'), audience, acceptOpaque: true, logger }).load(),
    ).toBeNull();
    expect(await new PythonTokenFile({ path: real, audience, acceptOpaque: true, logger, uid: 4242 }).load()).toBeNull();
    expect(
      await new PythonTokenFile({ path: real, audience: 'https://other.example', acceptOpaque: true, logger }).load(),
    ).toBeNull();
    expect(await new PythonTokenFile({ path: real, audience, acceptOpaque: false, logger }).load()).not.toBeNull();
    // An opaque access token: only the default deployment takes it.
    await writeFile(real, pythonDumps({ access_token: 'opaque', refresh_token: 'r', expires_at: 1 }));
    expect(await new PythonTokenFile({ path: real, audience, acceptOpaque: false, logger }).load()).toBeNull();
    expect(await new PythonTokenFile({ path: real, audience, acceptOpaque: true, logger }).load()).not.toBeNull();
    expect(logger.warnings.join('\n')).toMatch(
      /symbolic link[\s\S]*belongs to another user \(uid \d+, not 4242\)[\s\S]*another deployment/,
    );
  });

  it('named: a logout clears it too, so the family is not read again on the next start', async () => {
    const path = await pythonHeadlessFile(root);
    const { store } = selectFor(path);
    expect(await store.load()).not.toBeNull();
    expect((store as LayeredStore).places()).toContain(
      `file ${path} (the Python SDK's headless token file, MESH_PYTHON_TOKEN_FILE)`,
    );
    await store.clear();
    await expect(lstat(path)).rejects.toThrow(/ENOENT/);
    expect(await selectFor(path).store.load()).toBeNull();
  });
});

// Issue 19 item 12: a Python process on the same machine rewrites the set after its own refresh
// without `auth_source`, so a device-flow family looks like a browser login's, and its refresh as
// `web` is refused (a refresh token belongs to the application that issued it).
describe('a login shared with a running Python process', () => {
  const stack = useStack({ provider: { deviceInterval: 1 } });

  it('a device-flow set the Python SDK rewrote without auth_source: refused as web, refreshed as device once, and marked device_flow again', async () => {
    const reply = await deviceFlowTokens(stack);
    // What Python's refresh_auth_token stores: the reply, plus expires_at; no auth_source.
    const directory = join(root, '.mesh');
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'token.json'), pythonDumps({ ...reply, expires_at: Math.floor(Date.now() / 1000) - 10 }), {
      mode: 0o600,
    });
    const before = { ...stack.backend.counters.refreshClientTypes };
    const env = { ...stack.env, MESH_TOKEN_STORE: 'file' };
    const { session } = assembleClient({ env, logger }, { tokenDirectory: directory });
    const token = await session?.manager.getAccessToken();
    expect(token).not.toBe(reply.access_token);
    expect(stack.backend.counters.refreshClientTypes.web).toBe((before.web ?? 0) + 1);
    expect(stack.backend.counters.refreshClientTypes.device).toBe((before.device ?? 0) + 1);
    const written = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8')) as Record<string, unknown>;
    expect(written.auth_source).toBe('device_flow');
    // The next refresh goes straight to the device application.
    await session?.manager.getAccessToken({ forceRefresh: true });
    expect(stack.backend.counters.refreshClientTypes.web).toBe((before.web ?? 0) + 1);
    expect(stack.backend.counters.refreshClientTypes.device).toBe((before.device ?? 0) + 2);
  });
});
