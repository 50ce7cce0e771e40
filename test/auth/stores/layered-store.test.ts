// A layered store names its places through the TokenStore interface (no instanceof needed by the
// logout): the keychain and the file, and an imported Python token file once tokens came from it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FileStore } from '../../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../../src/auth/stores/keychain-store.js';
import { LayeredStore } from '../../../src/auth/stores/layered-store.js';
import { PythonTokenFile } from '../../../src/auth/stores/python-token-file.js';
import type { TokenStore } from '../../../src/auth/stores/token-store.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-layered-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

/** What a logout reports, as MeshClient reads it: through the interface only. */
const placesOf = (store: TokenStore) => store.places?.() ?? [store.describe()];

it('lists the keychain and the file; a store without places() falls back to describe()', () => {
  const keychain = new KeychainStore({ account: 'tokens@places' });
  const file = new FileStore({ directory });
  expect(placesOf(new LayeredStore(keychain, file))).toEqual([keychain.describe(), file.describe()]);
  expect(placesOf(new LayeredStore(undefined, file))).toEqual([file.describe()]);
  expect(placesOf(file)).toEqual([file.describe()]);
});

it('adds the Python token file the tokens were imported from', async () => {
  const path = join(directory, '.mesh_token.json');
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  await writeFile(path, JSON.stringify({ access_token: 'opaque-token', refresh_token: 'r', expires_at: expiresAt }));
  const file = new FileStore({ directory: join(directory, 'store') });
  const imported = new PythonTokenFile({ path, audience: 'https://api.example.test', acceptOpaque: true });
  const store = new LayeredStore(undefined, file, undefined, [imported]);
  expect(placesOf(store)).toEqual([file.describe()]);
  expect(await store.load()).not.toBeNull();
  expect(placesOf(store)).toEqual([file.describe(), imported.describe()]);
});
