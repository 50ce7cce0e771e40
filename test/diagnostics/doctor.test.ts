// The doctor in process against the local stack: its probes take the client's road (the proxy
// from the environment, or the dispatcher given in the options), and its keychain check is the
// keychain store's own, on the configuration's slot, on a real Secret Service.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectProxy, startConnectProxy } from '../../dev/middlemen.js';
import { freePort } from '../../dev/ports.js';
import { keychainSlotFor } from '../../src/auth/stores/create-token-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { type Check, type DoctorInput, diagnose } from '../../src/diagnostics/doctor.js';
import { AbortError } from '../../src/errors/mesh-error.js';
import { keychainToolsInstalled, type PrivateBus, startBareBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

const stack = useStack();
let proxy: ConnectProxy;
let tokens: TokenSet;
let tokenDir: string;
beforeAll(async () => {
  [proxy, tokens, tokenDir] = await Promise.all([
    startConnectProxy(),
    storedTokens(stack),
    mkdtemp(join(tmpdir(), 'mesh-doctor-')),
  ]);
  await new FileStore({ directory: tokenDir }).save(tokens);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), tokenDir && rm(tokenDir, { recursive: true, force: true })]);
});

/** Runs `run` with exactly these proxy variables in process.env (what a CLI user sets). */
async function withProxyEnv<T>(variables: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return await run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A keychain helper that reaches no D-Bus: fails fast, touches no real keychain. */
const NO_KEYCHAIN = { env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/mesh-test-bus' } };

function doctorInput(env: Record<string, string>, extra: Partial<DoctorInput> = {}): DoctorInput {
  return {
    options: { interactive: false, env: { ...stack.env, CI: 'true', ...env } },
    makeClient: (options) => new MeshClient(options),
    keychain: NO_KEYCHAIN,
    ...extra,
  };
}

const seeded = () => ({ MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: tokenDir });
const byName = (checks: Check[]) => Object.fromEntries(checks.map((check) => [check.name, check]));
const hostOf = (url: string) => new URL(url).host;

describe('doctor probes through the client dispatcher', () => {
  it('HTTP_PROXY from the environment: the API and Auth0 probes go through the proxy (no token: only probes talk)', async () => {
    const before = proxy.tunnels.length;
    const checks = await withProxyEnv({ HTTP_PROXY: proxy.url }, () => diagnose(doctorInput({ MESH_TOKEN_STORE: 'memory' })));
    const found = byName(checks);
    expect(found.api).toMatchObject({ ok: true, detail: `${stack.apiUrl} answers (HTTP 200)` });
    expect(found.auth0).toMatchObject({ ok: true });
    expect(found['validate-endpoint']).toMatchObject({ ok: true });
    expect(found.token).toMatchObject({ ok: false });
    expect(found['api-call']).toBeUndefined();
    const targets = new Set(proxy.tunnels.slice(before).map((tunnel) => tunnel.target));
    expect(targets).toEqual(new Set([hostOf(stack.apiUrl), hostOf(stack.auth0.domain)]));
  });

  it('HTTP_PROXY naming a dead proxy: the API and Auth0 are reported unreachable although both are up', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const checks = await withProxyEnv({ HTTP_PROXY: dead }, () => diagnose(doctorInput(seeded())));
    const found = byName(checks);
    expect(found.api).toMatchObject({ ok: false, detail: expect.stringMatching(/ is unreachable \(ECONNREFUSED\)$/) });
    expect(found.auth0).toMatchObject({ ok: false, detail: expect.stringMatching(/ is unreachable \(ECONNREFUSED\)$/) });
    expect(found['validate-endpoint']).toMatchObject({ ok: false, detail: 'unreachable' });
    // The client of the token checks took the same dead road: the token is judged locally (no
    // network needed), the authenticated call cannot get out.
    expect(found['api-call']).toMatchObject({ ok: false, detail: expect.stringMatching(/^listKeys failed: /) });
    // Directly, the backend answers: the failures above are the proxy's.
    const direct = await request(`${stack.apiUrl}/auth/config`);
    await direct.body.dump();
    expect(direct.statusCode).toBe(200);
  });

  it('the dispatcher in the options carries the probes and the token checks, and is left open for its owner', async () => {
    const dispatcher = new ProxyAgent(proxy.url);
    try {
      const before = proxy.tunnels.length;
      const checks = await withProxyEnv({}, () =>
        diagnose({ ...doctorInput(seeded()), options: { ...doctorInput(seeded()).options, dispatcher } }),
      );
      const found = byName(checks);
      for (const name of ['api', 'auth0', 'validate-endpoint', 'token', 'api-call']) {
        expect(found[name], name).toMatchObject({ ok: true });
      }
      const targets = new Set(proxy.tunnels.slice(before).map((tunnel) => tunnel.target));
      expect(targets).toEqual(new Set([hostOf(stack.apiUrl), hostOf(stack.auth0.domain)]));
      // Not closed by the doctor: its owner can still send with it.
      const again = await request(`${stack.apiUrl}/auth/config`, { dispatcher });
      await again.body.dump();
      expect(again.statusCode).toBe(200);
    } finally {
      await dispatcher.close();
    }
  });

  it('the configuration check names the profile and the configuration file, with their sources', async () => {
    const configFile = join(tokenDir, 'config.json');
    const checks = byName(
      await diagnose(doctorInput({ MESH_TOKEN_STORE: 'memory', MESH_PROFILE: 'work', MESH_CONFIG_FILE: configFile })),
    );
    expect(checks.configuration?.detail).toContain(
      `MESH_PROFILE=work (env); MESH_CONFIG_FILE=${configFile} (env); MESH_API_URL=`,
    );
  });

  it('an aborted signal stops the doctor with an AbortError instead of reporting the network down', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(diagnose(doctorInput(seeded(), { signal: controller.signal }))).rejects.toBeInstanceOf(AbortError);
  });
});

describe.skipIf(!keychainToolsInstalled())('doctor keychain check: the store own check, on the configuration slot', () => {
  let keyring: PrivateBus;
  let bare: PrivateBus;
  beforeAll(async () => {
    [keyring, bare] = await Promise.all([startKeyringBus(), startBareBus()]);
  });
  afterAll(async () => {
    await Promise.all([keyring?.stop(), bare?.stop()]);
  });

  it('a working keychain passes, and the tokens in the slot are untouched', async () => {
    const config = resolveConfig({ env: { ...stack.env } });
    const slot = new KeychainStore({ ...keychainSlotFor(config), env: keyring.env });
    try {
      await slot.save(tokens);
      const checks = await diagnose(doctorInput({ MESH_TOKEN_STORE: 'keychain' }, { keychain: { env: keyring.env } }));
      expect(byName(checks).keychain).toEqual({ name: 'keychain', ok: true, detail: 'the OS keychain works' });
      // Compared as a yes/no: a failing diff would print the tokens into the log.
      expect(isDeepStrictEqual(await slot.load(), tokens), 'the slot holds the tokens it held before').toBe(true);
    } finally {
      await slot.clear();
      slot.close();
    }
  });

  it('a bus without a Secret Service fails the keychain check with the likely cause', async () => {
    const checks = await diagnose(doctorInput({ MESH_TOKEN_STORE: 'keychain' }, { keychain: { env: bare.env } }));
    expect(byName(checks).keychain).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^unavailable: /),
      recommendation: expect.stringMatching(/Secret Service/),
    });
  });

  // Following troubleshooting.md's advice (MESH_TOKEN_STORE=file on a machine without a keychain)
  // must leave a clean doctor: a keychain the configuration never uses is not a failure.
  it.each([
    [{ MESH_TOKEN_STORE: 'file' }, 'not in use: MESH_TOKEN_STORE=file'],
    [{ MESH_TOKEN_STORE: 'auto', CI: 'true' }, 'not in use: headless (CI (CI is set)): tokens go to the file'],
  ])('a keychain the configuration does not use (%o) passes as not in use, even on a bus without one', async (env, detail) => {
    const checks = await diagnose(doctorInput(env, { keychain: { env: bare.env } }));
    expect(byName(checks).keychain).toEqual({ name: 'keychain', ok: true, detail });
  });

  it('under auto on a desktop, a missing keychain fails the check and says where the tokens go meanwhile', async () => {
    const checks = await diagnose(
      doctorInput({ MESH_TOKEN_STORE: 'auto', MESH_HEADLESS: 'false' }, { keychain: { env: bare.env } }),
    );
    expect(byName(checks).keychain).toMatchObject({
      ok: false,
      recommendation: expect.stringMatching(
        /Meanwhile tokens are kept in ~\/\.mesh\/token\.json \(mode 0600\); set MESH_TOKEN_STORE=file/,
      ),
    });
  });
});
