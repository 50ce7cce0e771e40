// The login under Node.js, Bun and Deno, as a user meets it: the packed tarball in a fresh project,
// a script (scripts/local-login.mjs) that logs in and then chats, exiting by itself. The browser
// login runs the SDK's loopback callback server in that runtime, and a real headless Chromium logs
// in on the provider's page; the device login (headless) is approved in Chromium too. Tokens land
// in ~/.mesh/token.json under a temporary HOME.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { recordingOpener } from '../flow/recording-opener.js';
import { approveDevice, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';
import { useStack } from '../helpers/stack.js';
import {
  type ConsumerProject,
  consumerProject,
  LINGER_BOUND_MS,
  LOCAL_RUNTIMES,
  type LocalRuntime,
  lastJson,
  runScript,
  scriptCommand,
} from './harness.js';

let project: ConsumerProject;
let browser: Browser;
const homes: string[] = [];

beforeAll(async () => {
  [project, browser] = await Promise.all([consumerProject('local-login'), launchChromium()]);
  await copyFile(join(import.meta.dirname, 'scripts', 'local-login.mjs'), join(project.dir, 'local-login.mjs'));
});
afterAll(async () => {
  await Promise.all([project?.remove(), browser?.close(), ...homes.map((home) => rm(home, { recursive: true, force: true }))]);
});

/**
 * Runs the login script under `runtime` and drives the login in Chromium: the device login from
 * the `VERIFY <url>` line the script prints, the browser login from the URL the system opener
 * (xdg-open, with a stand-in $BROWSER) was started with. Killed after 40 s (code null).
 */
async function runLogin(
  runtime: LocalRuntime,
  mode: 'browser' | 'device',
  env: NodeJS.ProcessEnv,
  drive: (url: string) => Promise<void>,
) {
  let driven: Promise<void> | undefined;
  const opener = mode === 'browser' ? await recordingOpener({ display: true }) : undefined;
  let watching = true;
  const watch = async () => {
    while (watching && opener && driven === undefined) {
      const [url] = await opener.opened();
      if (url) driven = drive(url);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const [result] = await Promise.all([
    runScript(scriptCommand(runtime, 'local-login.mjs', [mode]), {
      cwd: project.dir,
      env: { ...env, ...opener?.env },
      timeoutMs: 40_000,
      onLine: (line) => {
        if (line.startsWith('VERIFY ') && driven === undefined) driven = drive(line.slice('VERIFY '.length));
      },
    }).finally(async () => {
      watching = false;
      if (opener) await rm(dirname(opener.env.BROWSER as string), { recursive: true, force: true });
    }),
    watch(),
  ]);
  const driveError = await driven?.then(
    () => undefined,
    (error: Error) => error,
  );
  expect(result.code, `the script exits by itself\n${result.stdout}\n${result.stderr}\nChromium: ${driveError ?? 'done'}`).toBe(
    0,
  );
  expect(driveError).toBeUndefined();
  expect(result.lingerMs, 'ms the script lived on after its last line').toBeLessThan(LINGER_BOUND_MS);
  return lastJson(result);
}

// The runtimes side by side (the login mostly waits: the start link's 3 s hold, the device
// polling), each with its own stack and callback port, its tests one after another.
describe.concurrent.each(LOCAL_RUNTIMES)('%s', (runtime) => {
  let callbackPort: number;
  const stack = useStack(async () => {
    callbackPort = await freePort();
    return { callbackPorts: [callbackPort] };
  });
  beforeAll(() => {
    stack.provider.settings.deviceInterval = 1; // the provider's default 5 s polling interval would only slow the test
  });
  // A context per test, as a person on another device has no session at the provider yet.
  let context: BrowserContext;
  let home: string;
  beforeEach(async () => {
    context = await loopbackContext(browser);
    home = await mkdtemp(join(tmpdir(), `mesh-runtime-login-${runtime}-`));
    homes.push(home);
  });
  afterEach(async () => {
    await context?.close();
  });

  describe.sequential('the login from a user script', () => {
    it('browser: the system opener gets the link, the SDK loopback server the callback from Chromium; tokens in ~/.mesh/token.json (0600); a chat then works', async () => {
      const page = await context.newPage();
      const exchanges = stack.backend.counters.exchanges;
      const login = `browser-${runtime}@example.test`;
      const result = await runLogin(
        runtime,
        'browser',
        { PATH: process.env.PATH, HOME: home, ...stack.env, AUTH0_CALLBACK_PORT: String(callbackPort) },
        (url) => logInWithBrowser(page, url, { login }),
      );
      expect(result).toEqual({
        email: login,
        browserOpened: true,
        content: '5 + 7 = 12',
        mode: '600',
        authSource: 'browser',
        hasRefreshToken: true,
      });
      expect(stack.backend.counters.exchanges - exchanges).toBe(1);
      await expect.poll(() => page.textContent('h1')).toBe('Logged in to Mesh');
      expect(new URL(page.url()).pathname).toBe('/done'); // the code left the address bar
    });

    it('device (MESH_HEADLESS=true): approved in Chromium; device-flow tokens in ~/.mesh/token.json; a chat then works', async () => {
      const page = await context.newPage();
      const result = await runLogin(
        runtime,
        'device',
        { PATH: process.env.PATH, HOME: home, ...stack.env, MESH_HEADLESS: 'true' },
        (url) => approveDevice(page, url),
      );
      expect(result).toMatchObject({
        content: '5 + 7 = 12',
        mode: '600',
        authSource: 'device_flow',
        hasRefreshToken: true,
      });
    });
  });
});
