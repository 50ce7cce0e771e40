// A custom token store: keep the token set wherever you like (here: a JSON file of your choosing).
// Any object with load, save, clear and describe will do. `npx mesh-auth` fills the SDK's own
// stores, not this one: at a terminal the first call logs in and saves here; elsewhere the call
// fails with a ReauthenticationRequiredError saying so, until the file holds a token set.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { MeshClient, type TokenSet, type TokenStore } from 'mesh-sdk';

const path = process.env.EXAMPLE_STORE_PATH ?? 'my-mesh-tokens.json';
const store: TokenStore = {
  async load() {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as TokenSet;
    } catch {
      return null;
    }
  },
  async save(tokens) {
    await writeFile(path, JSON.stringify(tokens), { mode: 0o600 });
  },
  async clear() {
    await rm(path, { force: true });
  },
  describe: () => `my store (${path})`,
};

const client = new MeshClient({ tokenStore: store });
console.log('store:', client.describeTokenStore());
console.log((await client.chat('What is 10 - 3?')).content);
