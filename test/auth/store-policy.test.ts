// Which store a configuration gets, and headless detection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore, keychainAccountFor, keychainSlotFor } from '../../src/auth/stores/create-token-store.js';
import { EnvStore } from '../../src/auth/stores/env-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import { LayeredStore } from '../../src/auth/stores/layered-store.js';
import { MemoryStore } from '../../src/auth/stores/memory-store.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { detectHeadless } from '../../src/internal/headless.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-policy-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const select = (env: Record<string, string>, options = {}) =>
  createTokenStore(resolveConfig({ env, ...options }), { env, tokenDirectory: directory });

describe('storage policy', () => {
  it('auto on a desktop: keychain first, file behind it, with a lock beside token.json', () => {
    const { store, lock, headless } = select({ DISPLAY: ':0' }, { headless: false });
    expect(store).toBeInstanceOf(LayeredStore);
    expect(headless.headless).toBe(false);
    expect(lock?.path).toBe(join(directory, 'token.json.lock'));
  });

  it('auto when headless: the file only (then the Python SDK files as an import source), never the keychain', () => {
    const { store, headless } = select({ CI: 'true' });
    expect(store).toBeInstanceOf(LayeredStore);
    expect(headless.headless).toBe(true);
    expect((store as LayeredStore).places()).toEqual([`file ${join(directory, 'token.json')}`]);
    expect(store.describe()).toBe(`file ${join(directory, 'token.json')}`);
  });

  it('MESH_TOKEN_STORE=file: the file, with the import source behind it and no keychain', () => {
    const { store } = select({ MESH_TOKEN_STORE: 'file' });
    expect(store).toBeInstanceOf(LayeredStore);
    expect((store as LayeredStore).places()).toEqual([`file ${join(directory, 'token.json')}`]);
  });

  it.each([
    ['keychain', KeychainStore],
    ['env', EnvStore],
    ['memory', MemoryStore],
  ] as const)('MESH_TOKEN_STORE=%s selects that store', (kind, Store) => {
    expect(select({ MESH_TOKEN_STORE: kind }).store).toBeInstanceOf(Store);
  });

  it('MESH_TOKEN_FROM_ENV=true selects the env store, with no cross-process lock', () => {
    const { store, lock } = select({ MESH_TOKEN_FROM_ENV: 'true' });
    expect(store).toBeInstanceOf(EnvStore);
    expect(lock).toBeUndefined();
  });

  it('puts token.json and its lock in MESH_TOKEN_DIR when set', () => {
    const env = { MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: join(directory, 'custom') };
    const { store, lock } = createTokenStore(resolveConfig({ env }), { env });
    expect(store.describe()).toBe(`file ${join(directory, 'custom', 'token.json')}`);
    expect(lock?.path).toBe(join(directory, 'custom', 'token.json.lock'));
  });

  it("uses the user's own store as given", () => {
    const mine = new MemoryStore();
    expect(select({}, { tokenStore: mine }).store).toBe(mine);
  });

  it("shares the Python SDK's keychain slot (mesh-sdk/default) for the default deployment only", () => {
    expect(keychainSlotFor(resolveConfig({ env: {} }))).toEqual({ account: 'default', shared: true });
    // A trailing slash or a bare host name for the same tenant is still the default deployment.
    expect(
      keychainSlotFor(
        resolveConfig({
          env: { MESH_API_URL: 'https://mesh-abh5.onrender.com/', AUTH0_DOMAIN: 'dev-hzpwy8oqs2ojss6r.us.auth0.com' },
        }),
      ),
    ).toEqual({ account: 'default', shared: true });
    const keychain = select({ MESH_TOKEN_STORE: 'keychain' }).store as KeychainStore;
    expect(keychain.account).toBe('default');
    expect(keychain.describe()).toMatch(/account default, shared with the Python SDK/);
  });

  it('gives every other deployment a slot of its own, so a local stack never overwrites real tokens', () => {
    expect(keychainAccountFor('https://mesh-abh5.onrender.com')).toBe('tokens@mesh-abh5.onrender.com');
    expect(keychainAccountFor('http://127.0.0.1:4001')).toBe('tokens@127.0.0.1:4001');
    expect(keychainSlotFor(resolveConfig({ env: { MESH_API_URL: 'http://127.0.0.1:4001' } }))).toEqual({
      account: 'tokens@127.0.0.1:4001',
      shared: false,
    });
    // Same API, another Auth0 tenant: other tokens, another slot.
    expect(keychainSlotFor(resolveConfig({ env: { AUTH0_DOMAIN: 'other.eu.auth0.com' } })).shared).toBe(false);
    expect((select({ MESH_TOKEN_STORE: 'keychain', MESH_API_URL: 'http://127.0.0.1:4001' }).store as KeychainStore).account).toBe(
      'tokens@127.0.0.1:4001',
    );
  });
});

describe('headless detection', () => {
  const desktop = { exists: () => false, readText: () => '', platform: 'linux' as const };

  it.each([
    [{ CI: 'true', DISPLAY: ':0' }, /CI/],
    [{ SSH_CONNECTION: '10.0.0.1 22 10.0.0.2 5555', DISPLAY: ':0' }, /SSH/],
    [{ SSH_TTY: '/dev/pts/1', DISPLAY: ':0' }, /SSH/],
    [{}, /no display/],
  ])('is headless for %o', (env, reason) => {
    const verdict = detectHeadless(undefined, { env, ...desktop });
    expect(verdict.headless).toBe(true);
    expect(verdict.reason).toMatch(reason);
  });

  it('is headless in a container, by marker file or cgroup', () => {
    expect(detectHeadless(undefined, { env: { DISPLAY: ':0' }, ...desktop, exists: (p) => p === '/.dockerenv' }).reason).toMatch(
      /container/,
    );
    expect(
      detectHeadless(undefined, { env: { DISPLAY: ':0' }, ...desktop, exists: (p) => p === '/run/.containerenv' }).headless,
    ).toBe(true);
    expect(
      detectHeadless(undefined, { env: { DISPLAY: ':0' }, ...desktop, readText: () => '0::/kubepods/besteffort/pod1' }).headless,
    ).toBe(true);
  });

  it('is a desktop with a display, or on macOS and Windows', () => {
    expect(detectHeadless(undefined, { env: { WAYLAND_DISPLAY: 'wayland-0' }, ...desktop }).headless).toBe(false);
    expect(detectHeadless(undefined, { env: {}, ...desktop, platform: 'darwin' }).headless).toBe(false);
  });

  it('lets MESH_HEADLESS / the option decide either way, and CI=false is not CI', () => {
    expect(detectHeadless(true, { env: { DISPLAY: ':0' }, ...desktop }).headless).toBe(true);
    expect(detectHeadless(false, { env: { CI: 'true' }, ...desktop }).headless).toBe(false);
    expect(detectHeadless(undefined, { env: { CI: 'false', DISPLAY: ':0' }, ...desktop }).headless).toBe(false);
  });
});
