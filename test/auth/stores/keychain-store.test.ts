// The keychain store against a real Secret Service (gnome-keyring on a private D-Bus session),
// and the fall-back to the file store, within the time bound, for every failure seen in the field.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../src/auth/stores/file-store.js';
import { type KeychainBackend, KeychainClient } from '../../../src/auth/stores/keychain/keychain-client.js';
import { KeychainStore, WINDOWS_MAX_SECRET_CHARS } from '../../../src/auth/stores/keychain-store.js';
import { LayeredStore } from '../../../src/auth/stores/layered-store.js';
import type { TokenSet } from '../../../src/auth/stores/token-store.js';
import { KeychainError } from '../../../src/errors/mesh-error.js';
import {
  keychainAccounts,
  keychainToolsInstalled,
  type PrivateBus,
  startBareBus,
  startHungBus,
  startKeyringBus,
} from '../../helpers/dbus.js';
import { recordingLogger } from '../../helpers/logger.js';

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

  const secretToolAccounts = () => keychainAccounts(bus);

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
        // The 3 s bound, with slack for a loaded CI machine; an unbounded wait is D-Bus's 25 s.
        expect(elapsed).toBeLessThan(6000);
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

// keytar's API (getPassword/setPassword/deletePassword), loaded by the real helper process, over
// a JSON file, refusing what Windows Credential Manager refuses: a secret over 2560 bytes of UTF-16.
const FAKE_KEYTAR = `
const fs = require('node:fs');
const file = process.env.FAKE_KEYTAR_FILE;
const read = () => { try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return {}; } };
const write = (data) => fs.writeFileSync(file, JSON.stringify(data));
const key = (service, account) => service + '/' + account;
module.exports = {
  async getPassword(service, account) { const value = read()[key(service, account)]; return value === undefined ? null : value; },
  async setPassword(service, account, value) {
    if (Buffer.byteLength(value, 'utf16le') > 2560) throw new Error('The stub received bad data.');
    const data = read(); data[key(service, account)] = value; write(data);
  },
  async deletePassword(service, account) { const data = read(); const had = key(service, account) in data; delete data[key(service, account)]; write(data); return had; },
};
`;

describe('the Windows limit and the keytar binding (platform and binding injected; no real Windows)', () => {
  let vault: string;
  let entries: () => Promise<Record<string, string>>;
  let keytarOn: (options: { platform: NodeJS.Platform; account?: string; shared?: boolean }) => KeychainStore;
  beforeEach(async () => {
    const path = join(tokenDirectory, 'keytar-fake.cjs');
    vault = join(tokenDirectory, 'vault.json');
    await writeFile(path, FAKE_KEYTAR);
    entries = async () => JSON.parse(await readFile(vault, 'utf8').catch(() => '{}')) as Record<string, string>;
    keytarOn = ({ platform, account = 'tokens@win', shared }) =>
      new KeychainStore({
        account,
        shared,
        platform,
        binding: { path, kind: 'keytar' },
        env: { ...process.env, FAKE_KEYTAR_FILE: vault },
        logger,
      });
  });
  const BIG: TokenSet = { ...TOKENS, access_token: `eyJhbGciOiJSUzI1NiJ9.${'p'.repeat(1800)}.${'s'.repeat(600)}` };

  it('on win32 splits a long set into entries of at most 1200 characters through keytar, and reads it back', async () => {
    const store = keytarOn({ platform: 'win32' });
    await store.save(BIG);
    const stored = await entries();
    const accounts = Object.keys(stored).filter((name) => name.startsWith('mesh-sdk/tokens@win'));
    expect(accounts.length).toBeGreaterThanOrEqual(4); // the header and at least 3 parts
    for (const account of accounts) expect(stored[account]?.length).toBeLessThanOrEqual(WINDOWS_MAX_SECRET_CHARS);
    expect(await store.load()).toEqual(BIG);
    // A small set afterwards is one entry again, and the old parts are gone.
    const small: TokenSet = { access_token: 'a.b.c', refresh_token: 'r', expires_at: 1 };
    await store.save(small);
    expect(Object.keys(await entries())).toEqual(['mesh-sdk/tokens@win']);
    expect(await keytarOn({ platform: 'win32' }).load()).toEqual(small);
  });

  it('without the limit the same set is refused by the Windows-sized vault, as a typed KeychainError (the limit is needed)', async () => {
    const error = await keytarOn({ platform: 'linux' })
      .save(BIG)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeychainError);
    expect((error as KeychainError).code).toBe('keychain_unavailable');
    expect((error as KeychainError).message).toMatch(/stub received bad data/);
    expect(await entries()).toEqual({});
  });

  it("never chunks into the Python SDK's shared slot: a KeychainError, and the auto policy puts the set in the file", async () => {
    const shared = keytarOn({ platform: 'win32', account: 'default', shared: true });
    await expect(shared.save(BIG)).rejects.toBeInstanceOf(KeychainError);
    expect(await entries()).toEqual({});
    const file = new FileStore({ directory: tokenDirectory, logger });
    const layered = new LayeredStore(keytarOn({ platform: 'win32', account: 'default', shared: true }), file, logger);
    await layered.save(BIG);
    expect(await file.load()).toEqual(BIG);
    expect(warnings.join('\n')).toMatch(/shared with the Python SDK/);
    // A set that fits is stored in the shared slot as plain JSON, as the Python SDK writes it.
    await shared.save(TOKENS);
    expect(JSON.parse((await entries())['mesh-sdk/default'] as string)).toEqual(TOKENS);
  });
});

/** An in-process keychain whose `set` fails from the nth call on (for the failure paths). */
function flakyBackend(failFromSet: number, failure: Error = new KeychainError('The keychain refused: locked')) {
  const entries = new Map<string, string>();
  let sets = 0;
  const backend: KeychainBackend & { failFromSet: number; sets(): number } = {
    failFromSet,
    sets: () => sets,
    async get(account) {
      return entries.get(account) ?? null;
    },
    async set(account, value) {
      sets += 1;
      if (sets >= backend.failFromSet) throw failure;
      entries.set(account, value);
    },
    async delete(account) {
      return entries.delete(account);
    },
  };
  return backend;
}

describe('keychain save failures (issue 12 item 5: fail closed, typed)', () => {
  it('a save that fails half-way through the chunks leaves the previous set whole and throws KeychainError', async () => {
    const backend = flakyBackend(Number.POSITIVE_INFINITY);
    const store = new KeychainStore({ account: 'tokens@x', maxSecretLength: 200, backend, logger });
    await store.save(TOKENS);
    // The next save writes its first part, then the keychain refuses: the header still names the old parts.
    backend.failFromSet = backend.sets() + 2;
    const rotated = { ...TOKENS, access_token: `${TOKENS.access_token}x`, refresh_token: 'rotated-refresh' };
    await expect(store.save(rotated)).rejects.toBeInstanceOf(KeychainError);
    expect(await store.load()).toEqual(TOKENS);
    backend.failFromSet = Number.POSITIVE_INFINITY;
    await store.save(rotated);
    expect(await store.load()).toEqual(rotated);
  });

  it("wraps any failure of the keychain (not only the helper's own) as a KeychainError with a stable code", async () => {
    const store = new KeychainStore({ account: 'tokens@y', backend: flakyBackend(1, new TypeError('boom')), logger });
    const error = await store.save(TOKENS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeychainError);
    expect((error as KeychainError).code).toBe('keychain_unavailable');
    expect(warnings).toEqual([]); // no warn-and-continue
  });
});
