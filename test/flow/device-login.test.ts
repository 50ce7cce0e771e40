// The device login against the real provider and backend, both ways: straight to the provider
// (Auth0's layout and statuses: 403 pending, 429 slow_down) with the `?flow=device` application,
// as the deployed backend expects, and through the backend when it advertises `device_flow`.
// Approval is driven over HTTP as a person on another device would (dev/login-driver.ts).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';
import type { ProviderSettings } from '../../dev/provider/provider.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/client/options.js';
import type { DeviceVerification } from '../../src/flow/device-login.js';
import { decodeJwtPayload } from '../helpers/backend-login.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack();
let providerDefaults: ProviderSettings;
let directory: string;
beforeAll(() => {
  providerDefaults = { ...stack.provider.settings };
});
beforeEach(async () => {
  directory = await scratchDir('mesh-device-');
  stack.provider.settings.deviceInterval = 1; // the provider's default 5 s would make every test slow
});
afterEach(() => {
  stack.backend.reset();
  Object.assign(stack.provider.settings, providerDefaults);
});

const tokenFile = () => join(directory, 'token.json');
const readTokens = async () => JSON.parse(await readFile(tokenFile(), 'utf8')) as Record<string, unknown>;

function client(options: MeshClientOptions = {}): MeshClient {
  return new MeshClient({
    env: { ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
    headless: true,
    interactive: false,
    ...options,
    loginUi: { onHeadlessTokens: () => {}, ...options.loginUi },
  });
}

/** Approves on "another device" after `delayMs`, as a person would. */
const approveAfter =
  (delayMs = 0, deny = false) =>
  (v: DeviceVerification) =>
    void setTimeout(() => void approveDeviceOverHttp(v.verificationUriComplete as string, { deny }), delayMs);

describe.each([
  ['straight to the provider (the deployed dialect)', [] as string[]],
  ['through the backend (device_flow advertised)', ['device_flow']],
])('device login %s', (_name, capabilities) => {
  const viaBackend = capabilities.includes('device_flow');
  beforeEach(() => {
    stack.backend.settings.capabilities = capabilities;
  });

  it('approves, stores device-flow tokens, says how to get the env variables without a secret in it; a refresh then says client_type "device" and keeps the mark', async () => {
    const deviceCodes = stack.backend.counters.deviceCodes;
    let instructions = '';
    let given: TokenSet | undefined;
    const mesh = client({
      loginUi: {
        onVerification: approveAfter(),
        onHeadlessTokens: (tokens, text) => {
          given = tokens;
          instructions = text;
        },
      },
    });
    const profile = await mesh.login();
    expect(profile.id).toEqual(expect.any(String));
    expect(stack.backend.counters.deviceCodes).toBe(deviceCodes + (viaBackend ? 1 : 0));
    const stored = await readTokens();
    expect(stored).toMatchObject({ auth_source: 'device_flow', refresh_token: expect.any(String) });
    // Stored once, with the backend's user id for the next process's key calls (no second write).
    expect(stored.mesh_user).toMatchObject({ id: profile.id });
    // Issued to the native device application, whatever AUTH0_CLIENT_ID (the web app) says.
    expect(decodeJwtPayload(stored.access_token as string).client_id).toBe(stack.deviceClientId);
    // The callback still gets the tokens; the text it is given to print names commands, not secrets.
    expect(given?.refresh_token).toBe(stored.refresh_token);
    expect(instructions).not.toContain(stored.access_token as string);
    expect(instructions).not.toContain(stored.refresh_token as string);
    expect(instructions).not.toMatch(/MESH_(ACCESS|REFRESH)_TOKEN=/);
    expect(instructions).toMatch(/npx mesh-auth print-tokens/);
    expect(instructions).toMatch(/npx mesh-env -o \.env/);
    expect(instructions).toMatch(/npx mesh-env --api-key <name>/);
    expect((await mesh.chat('What is 5 + 7?')).content).toEqual(expect.any(String));

    // Expire it on disk; a new client refreshes as the device application and keeps the mark.
    await writeFile(tokenFile(), JSON.stringify({ ...stored, expires_at: Math.floor(Date.now() / 1000) - 10 }));
    const deviceRefreshes = stack.backend.counters.refreshClientTypes.device ?? 0;
    const refreshed = await client().tokenSet();
    expect(refreshed.access_token).not.toBe(stored.access_token);
    expect(stack.backend.counters.refreshClientTypes.device ?? 0).toBe(deviceRefreshes + 1);
    expect(await readTokens()).toMatchObject({ auth_source: 'device_flow', access_token: refreshed.access_token });
  });

  it('honours slow_down: 5 s more between polls, then completes', async () => {
    stack.provider.settings.devicePollFloor = 3; // the server wants 3 s although it advertised 1
    const slowDowns = stack.provider.counters.slowDowns;
    const first = stack.provider.counters.devicePollTimes.length;
    await client({ loginUi: { onVerification: approveAfter(2500) } }).login();
    // poll at 1 s (pending), at 2 s (too soon: slow_down, now 6 s), at 8 s (tokens): the gaps the client kept.
    const polls = stack.provider.counters.devicePollTimes.slice(first);
    const gaps = polls.slice(1).map((at, index) => at - (polls[index] as number));
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toBeGreaterThanOrEqual(950); // the advertised interval, 1 s
    expect(gaps[0]).toBeLessThan(2000);
    expect(gaps[1]).toBeGreaterThanOrEqual(5950); // interval + 5 s after the slow_down
    expect(gaps[1]).toBeLessThan(7500);
    expect(stack.provider.counters.slowDowns - slowDowns).toBe(1);
  }, 30_000);

  it('reads the OAuth error code, whatever the status (RFC 400s instead of Auth0 403s)', async () => {
    stack.provider.settings.deviceErrorStatuses = 'rfc';
    await client({ loginUi: { onVerification: approveAfter(1500) } }).login();
    expect((await readTokens()).auth_source).toBe('device_flow');
  }, 15_000);

  it('a denial ends the flow with LoginError login_access_denied, and nothing is stored', async () => {
    const error = await client({ loginUi: { onVerification: approveAfter(0, true) } })
      .login()
      .catch((e: unknown) => e);
    // Our code is the constant; the server's own word is kept beside it.
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_access_denied', serverCode: 'access_denied' });
    expect(existsSync(tokenFile())).toBe(false);
  });

  it('an expired code ends the flow with LoginError login_expired', async () => {
    stack.provider.settings.deviceCodeTtl = 2;
    const started = Date.now();
    const error = await client({ loginUi: { onVerification: () => {} } })
      .login()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_expired' });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('an AbortSignal cancels the wait at once', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const error = await client({ loginUi: { onVerification: () => setTimeout(() => controller.abort(), 300) } })
      .login({ signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('device login straight to the provider', () => {
  beforeEach(() => {
    stack.backend.settings.capabilities = [];
  });

  it("goes through the client's dispatcher (where proxies live)", async () => {
    const origins: string[] = [];
    class RecordingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        origins.push(String(options.origin));
        return super.dispatch(options, handler);
      }
    }
    const dispatcher = new RecordingAgent();
    try {
      await client({ dispatcher, loginUi: { onVerification: approveAfter() } }).login();
    } finally {
      await dispatcher.close();
    }
    expect(origins).toContain(stack.provider.origin);
    expect(origins).toContain(new URL(stack.apiUrl).origin);
  });

  it('without the backend naming its device application: LoginError, and nothing is asked of the provider', async () => {
    stack.backend.settings.configEndpoint = false;
    const grants = { ...stack.provider.counters.grants };
    const error = await client({ loginUi: { onVerification: () => {} } })
      .login()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_device_config_unavailable' });
    expect((error as { hint: string }).hint).toMatch(/MESH_API_KEY/);
    expect(stack.provider.counters.grants).toEqual(grants);
  });
});
