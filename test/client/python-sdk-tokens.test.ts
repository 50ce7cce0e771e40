// Issue 11, "done when": a token set written exactly as the Python SDK writes it (its file and a
// keychain entry, `json.dump` spacing, `auth_source`, a float `expires_at`, fields we do not model)
// is used by mesh-sdk end to end against the local stack: refreshed with the client_type its origin
// needs (real device-flow tokens refresh only as "device"), then rewritten with every field kept, in
// a form the Python SDK reads (`expires_at` a number).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, keychainAccountFor } from '../../src/auth/stores/create-token-store.js';
import { KeychainClient } from '../../src/auth/stores/keychain/keychain-client.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { deviceFlowTokens } from '../helpers/backend-login.js';
import { keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';
import { managerFor } from '../helpers/token-manager.js';

const stack = useStack();
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mesh-python-tokens-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `json.dumps(token_data)` of a device-flow login as the Python SDK stores it, already expired. */
async function pythonStoredDeviceSet(login: string): Promise<string> {
  const reply = await deviceFlowTokens(stack, { login });
  const record: Record<string, unknown> = {
    ...reply,
    expires_at: Date.now() / 1000 - 30.25, // a float, in the past: the next call must refresh
    auth_source: 'device_flow',
    python_only_field: { kept: true },
  };
  const text = `{${Object.entries(record)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`)
    .join(', ')}}`;
  return text;
}

function expectRewrittenForPython(text: string, original: string) {
  const written = JSON.parse(text) as Record<string, unknown>;
  const before = JSON.parse(original) as Record<string, unknown>;
  // Every field with a value survives (an empty `scope: ""`, as the stand-in provider sends, carries nothing).
  for (const [field, value] of Object.entries(before)) if (value !== '') expect(written, `field ${field}`).toHaveProperty(field);
  expect(written.auth_source).toBe('device_flow');
  expect(written.python_only_field).toEqual({ kept: true });
  expect(typeof written.expires_at).toBe('number'); // token_manager.py compares it with time.time()
  expect(written.expires_at as number).toBeGreaterThan(Date.now() / 1000);
  expect(written.refresh_token).not.toBe(before.refresh_token); // rotated, and the rotation saved
}

describe("the Python SDK's token file (~/.mesh/token.json)", () => {
  it('is used by MeshClient: refreshed with client_type "device", rewritten with every field kept', async () => {
    const home = join(root, 'file-home');
    await mkdir(join(home, '.mesh'), { recursive: true, mode: 0o700 });
    const text = await pythonStoredDeviceSet('python-file@example.test');
    const path = join(home, '.mesh', 'token.json');
    await writeFile(path, text, { mode: 0o600 });
    const devices = stack.backend.counters.refreshClientTypes.device ?? 0;
    const client = new MeshClient({ env: { ...stack.env, HOME: home, CI: 'true', MESH_TOKEN_DIR: join(home, '.mesh') } });
    try {
      expect((await client.chat('What is 6 * 7?')).content).toBe('6 * 7 = 42');
      expect(stack.backend.counters.refreshClientTypes.device ?? 0).toBe(devices + 1);
      expectRewrittenForPython(await readFile(path, 'utf8'), text);
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!keychainToolsInstalled() && !process.env.CI)('a keychain entry in the Python JSON', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus?.stop());

  it('is used by the token manager: refreshed with client_type "device", rewritten with every field kept', async () => {
    const config = resolveConfig({ apiUrl: stack.apiUrl, auth0: stack.auth0, tokenStore: 'keychain', env: {} });
    const { store } = createTokenStore(config, {
      env: {},
      tokenDirectory: join(root, 'keychain-home', '.mesh'),
      keychain: { env: bus.env },
    });
    const account = keychainAccountFor(stack.apiUrl);
    const python = new KeychainClient({ service: 'mesh-sdk', env: bus.env });
    try {
      const text = await pythonStoredDeviceSet('python-keychain@example.test');
      await python.set(account, text);
      const devices = stack.backend.counters.refreshClientTypes.device ?? 0;
      const token = await managerFor(stack, store).getAccessToken();
      expect(token).not.toBe(JSON.parse(text).access_token);
      expect(stack.backend.counters.refreshClientTypes.device ?? 0).toBe(devices + 1);
      expectRewrittenForPython((await python.get(account)) as string, text);
    } finally {
      await python.delete(account).catch(() => {});
      python.close();
    }
  });
});
