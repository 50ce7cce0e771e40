// The login, proven in real Chromium against the real provider and backend: loopback callback,
// state, PKCE, denial, forgery, time bound, port in use, stray requests, and the device flow.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BACKEND_SETTINGS } from '../../dev/backend/server.js';
import { freePort } from '../../dev/ports.js';
import { type Stack, startStack } from '../../dev/stack.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/config/options.js';
import { ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import { approveDevice, chromiumInstalled, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';

const installed = chromiumInstalled();

if (process.env.CI && !installed) {
  it('has Chromium installed (CI must run the browser tests)', () => {
    throw new Error('/usr/bin/chromium is missing: .ci/run must install the Debian package chromium.');
  });
}

describe.skipIf(!installed)('login in a real browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let port: number;
  let directory: string;
  const ports: number[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 16; i++) ports.push(await freePort());
    stack = await startStack({ callbackPorts: ports });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  beforeEach(async () => {
    port = ports.shift() as number;
    directory = await mkdtemp(join(tmpdir(), 'mesh-login-'));
    context = await loopbackContext(browser);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    Object.assign(stack.backend.settings, DEFAULT_BACKEND_SETTINGS);
    stack.provider.settings.deviceCodeTtl = 600;
  });

  const tokenFile = () => join(directory, 'token.json');
  /** Logs in through the browser and answers the authorization URL the flow opened. */
  async function loginSeeingUrl(): Promise<URL> {
    let seen: URL | undefined;
    await client({
      loginUi: {
        openBrowser: async (url) => {
          seen = new URL(url);
          void logInWithBrowser(page, url);
        },
      },
    }).login();
    return seen as URL;
  }
  function client(options: MeshClientOptions = {}): MeshClient {
    return new MeshClient({
      env: { ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
      headless: false,
      interactive: false,
      callbackPort: port,
      ...options,
      loginUi: { onAuthUrl: () => {}, onHeadlessTokens: () => {}, ...options.loginUi },
    });
  }

  it('logs in through the browser, stores the tokens, and a chat call then succeeds', async () => {
    const mesh = client({
      loginUi: { openBrowser: async (url) => void logInWithBrowser(page, url, { login: 'browser@example.test' }) },
    });
    const profile = await mesh.login();
    expect(profile.email).toBe('browser@example.test');
    const stored = JSON.parse(await readFile(tokenFile(), 'utf8'));
    expect(stored).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_at: expect.any(Number),
    });
    expect((await mesh.chat('What is 5 + 7?')).content).toBe('5 + 7 = 12');
    await expect.poll(() => page.textContent('h1')).toBe('Logged in to Mesh');
    expect(page.url()).toBe(`http://localhost:${port}/done`); // the code left the address bar
    expect(mesh.lastLoginTimings?.callbackToStoredMs).toBeGreaterThanOrEqual(mesh.lastLoginTimings?.exchangeMs as number);
  });

  it('sends state and a PKCE S256 challenge, and the loopback redirect URI', async () => {
    const seen = await loginSeeingUrl();
    const q = seen.searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(q.get('state') as string, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(q.get('redirect_uri')).toBe(`http://localhost:${port}/callback`);
    expect(q.get('scope')?.split(' ')).toContain('offline_access');
  });

  it('builds the same authorization URL itself when the backend has no /auth/get-auth-url', async () => {
    stack.backend.settings.authUrlEndpoint = false;
    const seen = await loginSeeingUrl();
    expect(`${seen?.origin}${seen?.pathname}`).toBe(`${stack.auth0.domain}/authorize`);
    expect(seen?.searchParams.get('audience')).toBe(stack.auth0.audience);
    expect(seen?.searchParams.get('client_id')).toBe(stack.auth0.clientId);
  });

  it('a denied login is a LoginError with the reason, and nothing is stored', async () => {
    const mesh = client({ loginUi: { openBrowser: async (url) => void logInWithBrowser(page, url, { deny: true }) } });
    const error = await mesh.login().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_access_denied' });
    expect((error as Error).message).toMatch(/cancelled the login/);
    expect(existsSync(tokenFile())).toBe(false);
    await expect.poll(() => page.textContent('h1')).toBe('Mesh login did not complete');
  });

  it('refuses a forged callback with a wrong state; the real one afterwards completes', async () => {
    let forged: { status: number; body: string } | undefined;
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          const response = await fetch(`http://127.0.0.1:${port}/callback?code=forged-code&state=wrong-state`);
          forged = { status: response.status, body: await response.text() };
          expect(existsSync(tokenFile())).toBe(false);
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(forged?.status).toBe(400);
    expect(forged?.body).toMatch(/does not belong to the login in progress/);
    expect(JSON.parse(await readFile(tokenFile(), 'utf8')).access_token).toEqual(expect.any(String));
  });

  it('ignores stray requests before the callback', async () => {
    const strays: number[] = [];
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          for (const path of ['/', '/favicon.ico', '/done', '/callback'])
            strays.push((await fetch(`http://127.0.0.1:${port}${path}`)).status);
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(strays).toEqual([404, 204, 404, 400]);
  });

  it('times out when no callback comes, and frees the port', async () => {
    const mesh = client({ loginUi: { openBrowser: async () => {} } });
    const started = Date.now();
    const error = await mesh.login({ timeoutMs: 800 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
    probe.close();
  });

  it('an AbortSignal cancels the wait', async () => {
    const controller = new AbortController();
    const mesh = client({ loginUi: { openBrowser: async () => void setTimeout(() => controller.abort(), 100) } });
    await expect(mesh.login({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a port held by another program: LoginError naming the port and the fix; that program still answers', async () => {
    const other: Server = createServer((_req, res) => res.end('other program'));
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    try {
      const error = await client()
        .login()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'LoginError', code: 'callback_port_in_use' });
      expect((error as Error).message).toContain(String(port));
      expect((error as { hint: string }).hint).toMatch(/--port.*AUTH0_CALLBACK_PORT/);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('other program');
    } finally {
      other.close();
    }
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && !address.internal && address.family === 'IPv4')?.address;

  it.skipIf(!external)('listens on loopback only: the machine’s other address refuses the connection', async () => {
    let refused: string | undefined;
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          refused = await new Promise<string>((resolve) => {
            const socket = connect(port, external as string);
            socket.once('connect', () => {
              socket.destroy();
              resolve('connected');
            });
            socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
          });
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(refused).toBe('ECONNREFUSED');
  });

  it('when the browser cannot be opened, shows the URL and the login still completes', async () => {
    const shown: Array<[string, boolean]> = [];
    const mesh = client({
      loginUi: {
        openBrowser: async () => {
          throw new Error('xdg-open: no method available');
        },
        onAuthUrl: (url, opened) => {
          shown.push([url, opened]);
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(shown).toHaveLength(1);
    expect(shown[0]?.[1]).toBe(false);
  });

  it('over SSH, does not open a browser blindly: shows the URL and suggests the device flow', async () => {
    let openedBrowser = false;
    const shown: Array<[string, boolean]> = [];
    const mesh = new MeshClient({
      env: { ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory, SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22' },
      headless: false,
      interactive: false,
      callbackPort: port,
      loginUi: {
        openBrowser: async () => {
          openedBrowser = true;
        },
        onAuthUrl: (url, opened) => {
          shown.push([url, opened]);
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(openedBrowser).toBe(false);
    expect(shown[0]?.[1]).toBe(false);
  });

  it('logs in once when a call needs it and a person is there; without one, says what to run', async () => {
    let opened = 0;
    const mesh = client({
      interactive: true,
      loginUi: {
        openBrowser: async (url) => {
          opened += 1;
          void logInWithBrowser(page, url);
        },
      },
    });
    const [keys, again] = await Promise.all([mesh.listKeys(), mesh.listKeys()]);
    expect([keys, again]).toEqual([[], []]);
    expect(opened).toBe(1);
    const nobody = new MeshClient({ env: { ...stack.env, MESH_TOKEN_STORE: 'memory' }, interactive: false });
    const error = await nobody.listKeys().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    expect((error as { hint: string }).hint).toMatch(/npx mesh-auth/);
  });

  describe('device flow', () => {
    it('approves in the browser, stores the tokens, and prints the env instructions', async () => {
      stack.backend.settings.deviceInterval = 1;
      let instructions = '';
      const mesh = client({
        headless: true,
        loginUi: {
          onVerification: (v) => void approveDevice(page, v.verificationUriComplete as string),
          onHeadlessTokens: (_tokens, text) => {
            instructions = text;
          },
        },
      });
      const profile = await mesh.login();
      expect(profile.email).toBe('device-user@example.test');
      expect(instructions).toMatch(/export MESH_TOKEN_FROM_ENV=true/);
      expect(instructions).toMatch(/export MESH_REFRESH_TOKEN=\S+/);
      expect(instructions).toMatch(/^MESH_ACCESS_TOKEN=\S+$/m);
      expect((await mesh.chat('hi')).content).toBe('Echo: hi');
    });

    it('honours slow_down: waits 5 s more, then completes', async () => {
      stack.backend.settings.deviceInterval = 1;
      stack.backend.settings.devicePollFloor = 3; // the server wants 3 s although it advertised 1
      const polls = stack.backend.counters.tokenStatusPolls;
      const started = Date.now();
      const mesh = client({
        headless: true,
        loginUi: { onVerification: (v) => void approveDevice(page, v.verificationUriComplete as string) },
      });
      await mesh.login();
      expect(Date.now() - started).toBeGreaterThanOrEqual(6000);
      expect(stack.backend.counters.tokenStatusPolls - polls).toBeLessThanOrEqual(3);
    }, 30_000);

    it('a denial ends the flow with LoginError', async () => {
      stack.backend.settings.deviceInterval = 1;
      const mesh = client({
        headless: true,
        loginUi: { onVerification: (v) => void approveDevice(page, v.verificationUriComplete as string, { deny: true }) },
      });
      await expect(mesh.login()).rejects.toMatchObject({ name: 'LoginError', code: 'login_access_denied' });
      expect(existsSync(tokenFile())).toBe(false);
    });

    it('an expired code ends the flow with LoginError', async () => {
      stack.backend.settings.deviceInterval = 1;
      stack.provider.settings.deviceCodeTtl = 2;
      const mesh = client({ headless: true, loginUi: { onVerification: () => {} } });
      await expect(mesh.login()).rejects.toMatchObject({ name: 'LoginError', code: 'login_expired' });
    });
  });
});
