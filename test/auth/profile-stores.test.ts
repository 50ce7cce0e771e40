// Profiles in the shared stores (issue 23), against the local stack: two logins side by side in one
// keychain (a private Secret Service) and in one Redis, each under its own entry or key; the
// logout of one leaves the other. Logins come in through the client itself (importPythonTokens
// copies a set into the client's own store), so the entries are where the client puts them.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';
import { type RedisServer, startRedis } from '../../dev/redis.js';
import { defaultRedisKey } from '../../src/auth/stores/redis-store.js';
import { clientWith, type MeshClient } from '../../src/client/mesh-client.js';
import { decodeJwtPayload, loginTokens } from '../helpers/backend-login.js';
import { keychainAccounts, keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { pythonTokenFile } from '../helpers/python-format.js';
import { type RawRedis, rawRedis } from '../helpers/redis.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({ provider: { deviceInterval: 1 } });

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-profile-stores-'));
  return () => rm(directory, { recursive: true, force: true });
});

/** Logs `login` in over HTTP and brings the set into `client`'s own store; answers the subject. */
async function logInto(client: MeshClient, login: string): Promise<string> {
  const reply = await loginTokens(stack, { login });
  const file = join(directory, `${login}.json`);
  await writeFile(file, pythonTokenFile(reply), { mode: 0o600 });
  await client.importPythonTokens(file, { remove: true });
  return String(decodeJwtPayload(reply.access_token).sub);
}

describe.skipIf(!keychainToolsInstalled())('in one keychain', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus?.stop());

  const accounts = () => keychainAccounts(bus);

  const client = (profile: string) =>
    clientWith(
      {
        env: {
          ...stack.env,
          MESH_TOKEN_STORE: 'keychain',
          MESH_TOKEN_DIR: join(directory, 'tokens'),
          MESH_CONFIG_FILE: join(directory, 'c.json'),
        },
        profile,
        interactive: false,
      },
      { keychain: { env: bus.env } },
    );

  it('two profiles keep two entries; the default one its own; a logout removes only its own', async () => {
    const host = new URL(stack.apiUrl).host;
    const personal = client('personal');
    const work = client('work');
    const alice = await logInto(personal, 'alice@example.test');
    const bob = await logInto(work, 'bob@example.test');
    expect(accounts()).toEqual([`personal@${host}`, `work@${host}`]);
    expect(await personal.authStatus()).toMatchObject({ loggedIn: true, subject: alice, profile: 'personal' });
    expect(await work.authStatus()).toMatchObject({ loggedIn: true, subject: bob, profile: 'work' });
    expect(personal.describeTokenStore()).toContain(`account personal@${host}`);
    expect(await client('default').authStatus()).toMatchObject({ loggedIn: false, profile: 'default' });
    await work.logout();
    expect(accounts()).toEqual([`personal@${host}`]);
    expect(await client('personal').authStatus()).toMatchObject({ loggedIn: true, subject: alice });
    await personal.logout();
  }, 60_000);

  it("a login into a named profile puts the set in its keychain entry and creates the profile's folder (for status --all), no file", async () => {
    const host = new URL(stack.apiUrl).host;
    const laptop = clientWith(
      {
        env: {
          ...stack.env,
          MESH_TOKEN_STORE: 'keychain',
          MESH_HEADLESS: 'true',
          MESH_TOKEN_DIR: join(directory, 'tokens'),
          MESH_CONFIG_FILE: join(directory, 'c.json'),
        },
        profile: 'laptop',
        interactive: false,
        loginUi: {
          onVerification: (verification) => {
            void approveDeviceOverHttp(verification.verificationUriComplete as string, { login: 'frank@example.test' });
          },
          onHeadlessTokens: () => {},
        },
      },
      { keychain: { env: bus.env } },
    );
    await laptop.login(); // its Profile is the backend's, which never saw the device login's ID token
    expect(accounts()).toEqual([`laptop@${host}`]);
    expect(await readdir(join(directory, 'tokens', 'profiles', 'laptop'))).toEqual([]);
    expect(await laptop.authStatus()).toMatchObject({ loggedIn: true, profile: 'laptop', email: 'frank@example.test' });
    await laptop.logout();
    expect(accounts()).toEqual([]);
  }, 60_000);
});

describe('in one Redis', () => {
  let redis: RedisServer;
  let raw: RawRedis;
  beforeAll(async () => {
    redis = await startRedis();
    raw = await rawRedis(redis.url);
  });
  afterAll(async () => {
    raw?.destroy();
    await redis?.stop();
  });

  const client = (profile: string) =>
    clientWith(
      {
        env: { ...stack.env, MESH_TOKEN_STORE: redis.url, MESH_CONFIG_FILE: join(directory, 'c.json') },
        profile,
        interactive: false,
      },
      {},
    );

  it("two profiles share one Redis under two keys (the default profile's key unchanged); a logout removes only its own", async () => {
    const key = defaultRedisKey(stack.apiUrl, stack.auth0.audience);
    const personal = client('personal');
    const work = client('work');
    const alice = await logInto(personal, 'alice@example.test');
    const bob = await logInto(work, 'bob@example.test');
    expect((await raw.keys('mesh-sdk:tokens:*')).sort()).toEqual([`${key}:profile:personal`, `${key}:profile:work`]);
    expect(await personal.authStatus()).toMatchObject({ loggedIn: true, subject: alice });
    expect(await work.authStatus()).toMatchObject({ loggedIn: true, subject: bob });
    const byDefault = client('default');
    expect(byDefault.describeTokenStore()).toContain(`key ${key}`);
    expect(byDefault.describeTokenStore()).not.toContain(':profile:');
    await work.logout();
    expect(await raw.keys('mesh-sdk:tokens:*')).toEqual([`${key}:profile:personal`]);
    expect(await client('personal').authStatus()).toMatchObject({ loggedIn: true, subject: alice });
    for (const each of [personal, work, byDefault]) await each.close();
  }, 60_000);
});
