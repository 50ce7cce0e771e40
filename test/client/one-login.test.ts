// The one login of the composition root: a call that needs a login runs the same login as
// `client.login()` (flow, then store, then /auth/profile), and what must never log in does not.
import * as diagnostics from 'node:diagnostics_channel';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';
import { LOGIN_CHANNEL, type LoginEvent } from '../../src/client/assemble.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/client/options.js';
import { ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({ provider: { deviceInterval: 1 } }, { resetAfterEach: true });

let directory: string;
const events: LoginEvent[] = [];
const record = (event: unknown) => events.push(event as LoginEvent);
beforeEach(async () => {
  directory = await scratchDir('mesh-one-login-');
  events.length = 0;
  diagnostics.subscribe(LOGIN_CHANNEL, record);
});
afterEach(() => {
  diagnostics.unsubscribe(LOGIN_CHANNEL, record);
});

const requests = (route: string) => stack.backend.counters.requests[route] ?? 0;

/** A headless client with an empty file store; `interactive` says whether a person can answer a login. */
function client(options: MeshClientOptions & { interactive: boolean }, approvals: Promise<void>[] = []): MeshClient {
  return new MeshClient({
    env: { ...stack.env, MESH_HEADLESS: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
    loginUi: {
      onVerification: (verification) => {
        approvals.push(
          approveDeviceOverHttp(verification.verificationUriComplete as string, { login: 'lazy@example.test' }).then(() => {}),
        );
      },
      onHeadlessTokens: () => {},
    },
    ...options,
  });
}

describe('the one login', () => {
  it('a call needing a login runs the login once, stores the tokens, registers once, and the call succeeds', async () => {
    const approvals: Promise<void>[] = [];
    const mesh = client({ interactive: true }, approvals);
    const profiles = requests('GET /auth/profile');
    const keys = await Promise.all([mesh.listKeys(), mesh.listKeys()]);
    await Promise.all(approvals);
    expect(keys).toEqual([[], []]);
    expect(approvals).toHaveLength(1); // one device login for both calls
    expect(events).toEqual([{ method: 'device' }]);
    const stored = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8'));
    expect(stored.auth_source).toBe('device_flow');
    // The login's own registration, with the token just stored; the calls then reuse its profile.
    expect(requests('GET /auth/profile') - profiles).toBe(1);
  });

  it('authStatus() and tokenSet() on a client that could log in never start one', async () => {
    const approvals: Promise<void>[] = [];
    const mesh = client({ interactive: true }, approvals);
    const deviceCodes = stack.backend.counters.deviceCodes; // the backend's own device flow, when advertised
    const status = await mesh.authStatus();
    expect(status).toMatchObject({ loggedIn: false });
    await expect(mesh.tokenSet()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(approvals).toHaveLength(0);
    expect(events).toHaveLength(0);
    expect(stack.backend.counters.deviceCodes).toBe(deviceCodes);
  });

  it('a client nobody can answer says what to run instead of waiting for a login', async () => {
    const mesh = client({ interactive: false });
    await expect(mesh.listKeys()).rejects.toMatchObject({ code: 'reauthentication_required', hint: /npx mesh-auth/ });
    expect(events).toHaveLength(0);
  });
});
