// The browser login, proven in real Chromium against the real provider and backend: loopback
// callback, the one-time start link (the state never reaches the opener), state, PKCE exactly when
// the backend advertises it, denial, forgery, a stolen start link, time bound, port in use, stray
// requests. (The device flow: device-login.test.ts.)
import * as diagnostics from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Request as BrowserRequest, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loginOverHttp } from '../../dev/login-driver.js';
import { freePort } from '../../dev/ports.js';
import { SkewClock } from '../../src/auth/tokens/clock.js';
import { LOGIN_CHANNEL, type LoginEvent } from '../../src/client/assemble.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/client/options.js';
import { ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import { decodeJwtPayload, newPkce, REDIRECT_URI, SCOPE } from '../helpers/backend-login.js';
import { approveDevice, chromiumInstalled, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { backendAuthFor } from '../helpers/token-manager.js';
import { knock, reachableOtherAddresses } from './local-addresses.js';

const installed = chromiumInstalled();

if (process.env.CI && !installed) {
  it('has Chromium installed (CI must run the browser tests)', () => {
    throw new Error('/usr/bin/chromium is missing: .ci/run must install the Debian package chromium.');
  });
}

describe.skipIf(!installed)('login in a real browser', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let port: number;
  let directory: string;
  const ports: number[] = [];
  const stack = useStack(async () => {
    // One registered callback port per test (more than there are tests: a test with none would fall back to 8000).
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    return { callbackPorts: ports };
  });

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    const next = ports.shift();
    if (next === undefined) throw new Error('browser-login.test.ts: out of callback ports; raise the count above');
    port = next;
    directory = await scratchDir('mesh-login-');
    context = await loopbackContext(browser);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    stack.backend.reset();
  });

  const tokenFile = () => join(directory, 'token.json');
  /**
   * Logs in through the browser and answers the authorization URL: where the browser went from
   * the start link the flow opened (the only place the URL, and its state, ever appear).
   */
  async function loginSeeingUrl(): Promise<URL> {
    let authorize: Promise<BrowserRequest> | undefined;
    await client({
      loginUi: {
        openBrowser: async (url) => {
          authorize = page.waitForRequest((request) => request.redirectedFrom()?.url() === url);
          void logInWithBrowser(page, url);
        },
      },
    }).login();
    return new URL((await (authorize as Promise<BrowserRequest>)).url());
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
    const events: LoginEvent[] = [];
    const record = (event: unknown) => events.push(event as LoginEvent);
    diagnostics.subscribe(LOGIN_CHANNEL, record);
    const profile = await mesh.login().finally(() => diagnostics.unsubscribe(LOGIN_CHANNEL, record));
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
    // One event on the diagnostics channel: the browser login's timings, and no secret in it.
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ method: 'browser', exchangeMs: expect.any(Number) });
    expect(events[0]?.callbackToStoredMs).toBeGreaterThanOrEqual(events[0]?.exchangeMs as number);
    expect(JSON.stringify(events)).not.toContain(stored.access_token);
  });

  it('hands the opener a one-time start link without the state; Chromium follows it to the authorization URL and logs in', async () => {
    const handed: string[] = [];
    let authorize: Promise<BrowserRequest> | undefined;
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          handed.push(url);
          authorize = page.waitForRequest((request) => request.redirectedFrom()?.url() === url);
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    // What an opener gets ends up on a command line (`xdg-open <url>`) that any local user can read.
    expect(handed).toHaveLength(1);
    const link = new URL(handed[0] as string);
    expect(`${link.origin}${link.pathname}`).toMatch(new RegExp(`^http://localhost:${port}/start/[A-Za-z0-9_-]{43}$`));
    expect(link.search).toBe('');
    // The state appears only in the redirect the browser followed, and the login completed.
    const state = new URL((await (authorize as Promise<BrowserRequest>)).url()).searchParams.get('state');
    expect(state).toEqual(expect.any(String));
    expect(handed[0]).not.toContain(state);
    expect(JSON.parse(await readFile(tokenFile(), 'utf8')).access_token).toEqual(expect.any(String));
    await expect.poll(() => page.textContent('h1')).toBe('Logged in to Mesh');
  });

  it('another program that fetches the start link first and sends its own code: the login stops ("opened twice") and never completes as that user', async () => {
    const exchanges = stack.backend.counters.exchanges;
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          // The other program read the link on the opener's command line: it takes the state from
          // the redirect, logs in as itself and sends its code with that state, before the browser.
          const redirect = await fetch(url, { redirect: 'manual' });
          const authorizationUrl = redirect.headers.get('location') as string;
          const callback = await loginOverHttp(authorizationUrl, `http://localhost:${port}/callback`, {
            login: 'mallory@example.test',
          });
          expect(callback.searchParams.get('code')).toEqual(expect.any(String));
          expect((await fetch(callback, { redirect: 'manual' })).status).toBe(302);
          // Then the browser the link was meant for.
          void page.goto(url);
        },
      },
    });
    const error = await mesh.login().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError' });
    expect((error as Error).message).toMatch(/login link was opened twice.*another program on this machine may be interfering/);
    // The other program's code never reached the backend; nothing is stored.
    expect(stack.backend.counters.exchanges).toBe(exchanges);
    expect(existsSync(tokenFile())).toBe(false);
    await expect.poll(() => page.textContent('h1')).toBe('Mesh login did not complete');
    expect(await page.textContent('body')).toMatch(/opened twice/);
  });

  it('against the deployed dialect: state of 256 bits, the loopback redirect URI, no PKCE anywhere; the login succeeds', async () => {
    stack.backend.settings.capabilities = [];
    const exchanges = stack.backend.counters.exchanges;
    const seen = await loginSeeingUrl();
    const q = seen.searchParams;
    expect(q.has('code_challenge')).toBe(false);
    expect(q.has('code_challenge_method')).toBe(false);
    expect(Buffer.from(q.get('state') as string, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(q.get('redirect_uri')).toBe(`http://localhost:${port}/callback`);
    expect(q.get('scope')?.split(' ')).toContain('offline_access');
    expect(stack.backend.counters.exchanges).toBe(exchanges + 1);
    expect(JSON.parse(await readFile(tokenFile(), 'utf8')).access_token).toEqual(expect.any(String));
  });

  it('with pkce advertised: sends a PKCE S256 challenge (seen in the authorize URL) and its verifier; the login succeeds', async () => {
    stack.backend.settings.capabilities = ['pkce'];
    const seen = await loginSeeingUrl();
    expect(seen.searchParams.get('code_challenge_method')).toBe('S256');
    expect(seen.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(await readFile(tokenFile(), 'utf8')).access_token).toEqual(expect.any(String));
  });

  it('with pkce advertised, the backend forwards the verifier: a wrong one is refused, the right one accepted', async () => {
    stack.backend.settings.capabilities = ['pkce'];
    const auth = backendAuthFor(stack, new SkewClock(), { maxRetries: 0 });
    const codeWith = async (challenge: string) => {
      const pkce = newPkce();
      const url = await auth.authUrl({
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        state: pkce.state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const callback = await loginOverHttp(url as string, REDIRECT_URI);
      return callback.searchParams.get('code') as string;
    };
    const right = newPkce();
    const wrong = newPkce();
    const refused = await auth
      .exchange({ code: await codeWith(right.challenge), redirect_uri: REDIRECT_URI, code_verifier: wrong.verifier })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: expect.any(Number) });
    expect((refused as { status: number }).status).toBeGreaterThanOrEqual(400);
    expect((refused as { status: number }).status).toBeLessThan(500);
    const tokens = await auth.exchange({
      code: await codeWith(right.challenge),
      redirect_uri: REDIRECT_URI,
      code_verifier: right.verifier,
    });
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it.each([
    ['without pkce', [] as string[]],
    ['with pkce', ['pkce']],
  ])('builds the same authorization URL itself when the backend has no /auth/get-auth-url (%s)', async (_name, capabilities) => {
    stack.backend.settings.capabilities = capabilities;
    stack.backend.settings.authUrlEndpoint = false;
    const seen = await loginSeeingUrl();
    expect(`${seen?.origin}${seen?.pathname}`).toBe(`${stack.auth0.domain}/authorize`);
    expect(seen?.searchParams.get('audience')).toBe(stack.auth0.audience);
    expect(seen?.searchParams.get('client_id')).toBe(stack.auth0.clientId);
    expect(seen?.searchParams.get('response_type')).toBe('code');
    expect(seen?.searchParams.has('code_challenge')).toBe(capabilities.includes('pkce'));
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

  // The listener alone (exact bound addresses, IPv6): loopback-listener.test.ts. Here: during a
  // real login, every other address of this machine refuses (127.0.0.2 on Linux when it has no
  // other, so this never skips), and the login completes.
  it('listens on loopback only: the machine’s other addresses refuse the connection during the login', async () => {
    const { reachable, tried } = await reachableOtherAddresses();
    expect(reachable, `no other address of this machine accepts a connection; tried ${tried.join(', ')}`).not.toEqual([]);
    let answers: Record<string, string> = {};
    const mesh = client({
      loginUi: {
        openBrowser: async (url) => {
          answers = Object.fromEntries(
            await Promise.all(reachable.map(async (address) => [address, await knock(address, port)])),
          );
          void logInWithBrowser(page, url);
        },
      },
    });
    await mesh.login();
    expect(answers).toEqual(Object.fromEntries(reachable.map((address) => [address, 'ECONNREFUSED'])));
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

  it('a device login approved in a real browser (the deployed dialect: straight to the provider)', async () => {
    stack.backend.settings.capabilities = [];
    const interval = stack.provider.settings.deviceInterval;
    stack.provider.settings.deviceInterval = 1;
    try {
      const mesh = client({
        headless: true,
        loginUi: { onVerification: (v) => void approveDevice(page, v.verificationUriComplete as string) },
      });
      expect((await mesh.login()).id).toEqual(expect.any(String));
      const stored = JSON.parse(await readFile(tokenFile(), 'utf8'));
      expect(stored.auth_source).toBe('device_flow');
      // The person who approved in the browser is who the tokens are for.
      expect(decodeJwtPayload(stored.access_token).sub).toBe(stack.provider.subjectFor('device-user@example.test'));
    } finally {
      stack.provider.settings.deviceInterval = interval;
    }
  });
});
