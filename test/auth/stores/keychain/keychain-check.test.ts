// The one keychain check (write a probe value, read it back, delete it), through the store that
// owns it, against a real Secret Service (gnome-keyring on a private D-Bus session) and against
// buses where it cannot work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeychainStore } from '../../../../src/auth/stores/keychain-store.js';
import type { TokenSet } from '../../../../src/auth/stores/token-store.js';
import { AbortError, KeychainError } from '../../../../src/errors/mesh-error.js';
import {
  keychainAccounts as accounts,
  keychainToolsInstalled,
  type PrivateBus,
  startBareBus,
  startKeyringBus,
} from '../../../helpers/dbus.js';

const installed = keychainToolsInstalled();
const TOKENS: TokenSet = { access_token: 'a.b.c', refresh_token: 'refresh-secret', expires_at: 2_000_000_000 };

describe.skipIf(!installed)('KeychainStore.check() with a real Secret Service', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus?.stop());

  it('passes, leaves no probe entry behind, and never touches the tokens of its slot', async () => {
    const store = new KeychainStore({ account: 'tokens@check', env: bus.env });
    try {
      await store.save(TOKENS);
      await store.check();
      await store.check(); // twice: a leftover or a stale value would show here
      expect(accounts(bus)).toEqual(['tokens@check']);
      expect(await store.load()).toEqual(TOKENS);
    } finally {
      await store.clear();
      store.close();
    }
  });

  it('an aborted signal stops it with an AbortError, and nothing is left behind', async () => {
    const store = new KeychainStore({ account: 'tokens@aborted', env: bus.env });
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(store.check(controller.signal)).rejects.toBeInstanceOf(AbortError);
      expect(accounts(bus).filter((account) => account.startsWith('tokens@aborted'))).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe.skipIf(!installed)('KeychainStore.check() where the keychain cannot work', () => {
  let bare: PrivateBus;
  beforeAll(async () => {
    bare = await startBareBus();
  });
  afterAll(() => bare?.stop());

  it.each([
    ['a bus without a Secret Service', () => bare.env, /Secret Service/],
    [
      'no D-Bus session at all',
      () => ({ PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: `unix:path=${bare.directory}/gone` }),
      /No D-Bus session/,
    ],
  ])('%s: a KeychainError whose hint names the cause', async (_name, env, hint) => {
    const store = new KeychainStore({ account: 'tokens@nowhere', env: env() });
    try {
      const error = await store.check().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(KeychainError);
      expect(error).toMatchObject({ code: 'keychain_unavailable', hint: expect.stringMatching(hint) });
    } finally {
      store.close();
    }
  });
});
