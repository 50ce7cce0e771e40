// Which store a configuration gets, and headless detection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore, keychainAccountFor } from '../../src/auth/create-token-store.js';
import { detectHeadless } from '../../src/auth/headless.js';
import { EnvStore } from '../../src/auth/stores/env-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import { LayeredStore } from '../../src/auth/stores/layered-store.js';
import { MemoryStore } from '../../src/auth/stores/memory-store.js';
import { resolveConfig } from '../../src/config/resolve.js';

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

  it('auto when headless: the file only', () => {
    const { store, headless } = select({ CI: 'true' });
    expect(store).toBeInstanceOf(FileStore);
    expect(headless).toEqual({ headless: true, reason: 'CI (CI is set)' });
  });

  it.each([
    ['file', FileStore],
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

  it('names the keychain account after the backend, so a local stack never overwrites real tokens', () => {
    expect(keychainAccountFor('https://mesh-abh5.onrender.com')).toBe('tokens@mesh-abh5.onrender.com');
    expect(keychainAccountFor('http://127.0.0.1:4001')).toBe('tokens@127.0.0.1:4001');
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
