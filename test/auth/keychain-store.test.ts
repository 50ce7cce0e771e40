// The keychain store against a real Secret Service (gnome-keyring on a private D-Bus session),
// and the fall-back to the file store, within the time bound, for every failure seen in the field.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeychainClient } from '../../src/auth/keychain/keychain-client.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import { LayeredStore } from '../../src/auth/stores/layered-store.js';
import type { TokenSet } from '../../src/auth/token-store.js';
import { KeychainError } from '../../src/errors/mesh-error.js';
import { keychainToolsInstalled, type PrivateBus, startBareBus, startHungBus, startKeyringBus } from '../helpers/dbus.js';
import { recordingLogger } from '../helpers/logger.js';

const installed = keychainToolsInstalled();
const TOKENS: TokenSet = {
  access_token: `eyJhbGciOiJSUzI1NiJ9.${'p'.repeat(400)}.${'s'.repeat(300)}`,
  refresh_token: 'refresh-token-secret',
  token_type: 'Bearer',
  expires_at: 2_000_000_000,
};

let warnings: string[];
let logger: ReturnType<typeof recordingLogger>;
let tokenDirectory: string;
beforeEach(async () => {
  logger = recordingLogger();
  warnings = logger.warnings;
  tokenDirectory = await mkdtemp(join(tmpdir(), 'mesh-keychain-file-'));
});
afterEach(() => rm(tokenDirectory, { recursive: true, force: true }));

function keychainOn(bus: Pick<PrivateBus, 'env'>, extra: { maxSecretLength?: number; account?: string } = {}) {
  return new KeychainStore({
    account: extra.account ?? 'tokens@test',
    env: bus.env,
    timeoutMs: 3000,
    logger,
    maxSecretLength: extra.maxSecretLength,
  });
}

// Outside CI a machine without the tools skips the keychain suites; in CI their absence fails.
if (process.env.CI && !installed) {
  it('has dbus and gnome-keyring installed (CI must run the keychain tests)', () => {
    throw new Error(
      'dbus-daemon, gnome-keyring-daemon and dbus-send are missing: .ci/run must install dbus, gnome-keyring and libsecret-tools.',
    );
  });
}

describe.skipIf(!installed)('KeychainStore with a real Secret Service', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus.stop());

  // secret-tool prints the attributes on stderr and the items on stdout.
  const secretToolAccounts = () => {
    const result = spawnSync('secret-tool', ['search', '--all', 'service', 'mesh-sdk'], { env: bus.env, encoding: 'utf8' });
    return `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.startsWith('attribute.username'))
      .map((line) => line.split(' = ')[1])
      .sort();
  };

  it('saves, loads and clears a token set, in the Secret Service itself (not the kernel keyring)', async () => {
    const store = keychainOn(bus, { account: 'tokens@roundtrip' });
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
    expect(secretToolAccounts()).toContain('tokens@roundtrip');
    await store.clear();
    expect(await store.load()).toBeNull();
    expect(secretToolAccounts()).not.toContain('tokens@roundtrip');
  });

  it('works with the default time bound (regression: an undefined timeoutMs erased the 3 s default)', async () => {
    const store = new KeychainStore({ account: 'tokens@defaults', env: bus.env });
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
  });

  it('chunks a secret over the platform limit across entries, never truncating, and cleans up old chunks', async () => {
    const store = keychainOn(bus, { account: 'tokens@chunked', maxSecretLength: 200 });
    await store.save(TOKENS);
    const chunked = secretToolAccounts().filter((a) => a?.startsWith('tokens@chunked'));
    expect(chunked.length).toBeGreaterThan(4);
    expect(await store.load()).toEqual(TOKENS);
    const small: TokenSet = { access_token: 'a.b.c', refresh_token: 'r', expires_at: 1 };
    await store.save(small);
    expect(await store.load()).toEqual(small);
    expect(secretToolAccounts().filter((a) => a?.startsWith('tokens@chunked'))).toEqual(['tokens@chunked']);
  });

  it('ignores a garbage blob with a warning, and the next save replaces it', async () => {
    const client = new KeychainClient({ service: 'mesh-sdk', env: bus.env });
    await client.set('tokens@garbage', '{not json');
    client.close();
    const store = keychainOn(bus, { account: 'tokens@garbage' });
    expect(await store.load()).toBeNull();
    expect(warnings.join('\n')).toMatch(/is not a token set/);
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
  });

  it('keeps tokens in the keychain under the auto policy, and no file is written', async () => {
    const layered = new LayeredStore(
      keychainOn(bus, { account: 'tokens@auto' }),
      new FileStore({ directory: tokenDirectory, logger }),
      logger,
    );
    await layered.save(TOKENS);
    expect(await layered.load()).toEqual(TOKENS);
    expect(layered.describe()).toMatch(/OS keychain/);
    expect(await readdir(tokenDirectory)).toEqual([]);
  });
});

describe.skipIf(!installed)('falling back to the file store when the keychain fails', () => {
  const scenarios: Array<[string, () => Promise<Pick<PrivateBus, 'env' | 'stop'>>, RegExp]> = [
    [
      'no D-Bus session',
      async () => ({
        env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: tokenDirectory, HOME: tokenDirectory },
        stop: async () => {},
      }),
      /No D-Bus session/,
    ],
    [
      'a dead bus socket',
      async () => ({
        env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(tokenDirectory, 'gone')}` },
        stop: async () => {},
      }),
      /No D-Bus session/,
    ],
    ['a bus without a secrets service', startBareBus, /No Secret Service/],
    ['a locked keyring', () => startKeyringBus({ locked: true }), /locked/],
    ['a bus that accepts connections and never answers', startHungBus, /hung/],
  ];

  it.each(scenarios)(
    '%s: tokens go to the file within the 3 s bound, with a warning naming the reason',
    async (_name, start, hint) => {
      const bus = await start();
      try {
        const file = new FileStore({ directory: tokenDirectory, logger });
        const layered = new LayeredStore(keychainOn(bus), file, logger);
        const started = Date.now();
        await layered.save(TOKENS);
        const elapsed = Date.now() - started;
        expect(elapsed).toBeLessThan(3500);
        expect(await file.load()).toEqual(TOKENS);
        expect(await layered.load()).toEqual(TOKENS);
        expect(layered.describe()).toMatch(/^file .*keychain unavailable/);
        expect(warnings.join('\n')).toMatch(hint);
        expect(warnings.join('\n')).not.toContain(TOKENS.refresh_token);
      } finally {
        await bus.stop();
      }
    },
    20_000,
  );

  it('with tokenStore keychain, fails closed: a KeychainError, and no token in a plain file', async () => {
    const bus = await startBareBus();
    try {
      const store = keychainOn(bus);
      const error = await store.save(TOKENS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeychainError);
      expect((error as KeychainError).hint).toMatch(/Secret Service/);
      expect(await readdir(tokenDirectory)).toEqual([]);
    } finally {
      await bus.stop();
    }
  });
});
