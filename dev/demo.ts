/**
 * `npm run demo`: the main job on the local stack, step by step. Starts the stand-in Auth0 and the
 * reference backend, logs in through the real flow, then calls chat('What is 5 + 7?') and
 * listKeys() with the top-level helpers.
 *
 * The login: a person at a desktop uses their browser; in a terminal without a display, the
 * device flow. With --auto, or when no person can answer (no TTY), it completes by itself:
 * through headless Chromium when installed, else by filling in the provider's login form over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chat, getDefaultClient, listKeys, MeshClient, type Profile, storeKey } from '../src/index.js';
import { chromiumInstalled, launchChromium } from './chromium.js';
import { loginOverHttp } from './login-driver.js';
import { freePort } from './ports.js';
import { startStack } from './stack.js';

const DEMO_USER = 'demo@example.test';
const step = (n: number, text: string) => process.stdout.write(`\n${n}. ${text}\n`);
const say = (text: string) => process.stdout.write(`   ${text}\n`);

/**
 * Logs in without a person: headless Chromium if installed, else the login form over plain HTTP.
 * `open` returns at once, as a system browser opener does; the login goes on in the background.
 */
async function automaticBrowser(): Promise<{ open(url: string): Promise<void>; close(): Promise<void>; how: string }> {
  const report = (error: unknown) => process.stderr.write(`   automatic login failed: ${(error as Error).message}\n`);
  // MESH_DEMO_NO_CHROMIUM=1 takes the path of a machine without Chromium (tested).
  if (chromiumInstalled() && !process.env.MESH_DEMO_NO_CHROMIUM) {
    const browser = await launchChromium();
    const page = await browser.newPage();
    const logIn = async (url: string) => {
      await page.goto(url);
      await page.fill('input[name=login]', DEMO_USER);
      await page.fill('input[name=password]', 'mesh-test-password');
      await page.click('button[value=login]');
    };
    return {
      how: 'headless Chromium fills in the login page',
      open: async (url) => void logIn(url).catch(report),
      close: () => browser.close(),
    };
  }
  const logIn = async (url: string) => {
    // `url` is the listener's one-time start link; the callback is on the same listener.
    const redirectUri = new URL('/callback', url).href;
    const callback = await loginOverHttp(url, redirectUri, { login: DEMO_USER });
    await fetch(callback); // what the browser would do: deliver the code to the loopback listener
  };
  return {
    how: "the provider's login form is filled in over HTTP (no Chromium here)",
    open: async (url) => void logIn(url).catch(report),
    close: async () => {},
  };
}

const auto = process.argv.includes('--auto') || !(process.stdin.isTTY && process.stderr.isTTY);
const display = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

step(1, 'Starting the local Mesh stack');
const port = await freePort();
const stack = await startStack({ callbackPorts: [port] });
const tokenDirectory = await mkdtemp(join(tmpdir(), 'mesh-demo-'));
say(`Mesh backend:    ${stack.apiUrl}`);
say(`OpenID provider: ${stack.provider.issuer} (standing in for Auth0)`);
// The top-level helpers read their configuration from the environment, as an application's would.
Object.assign(process.env, stack.env, {
  MESH_TOKEN_STORE: 'file',
  MESH_TOKEN_DIR: tokenDirectory,
  AUTH0_CALLBACK_PORT: String(port),
});

let exitCode = 0;
const browser = auto ? await automaticBrowser() : undefined;
try {
  step(2, 'Logging in');
  // A client for the login (with its UI); the top-level helpers then find the stored tokens.
  const client = new MeshClient(
    browser
      ? {
          loginUi: {
            openBrowser: browser.open,
            onAuthUrl: (url) => say(`Login URL: ${url.slice(0, 80)}...`),
            onHeadlessTokens: () => {}, // the demo's tokens are throwaway: no env-var instructions
          },
        }
      : {},
  );
  let profile: Profile;
  if (browser) {
    say(`Automatic login: ${browser.how}.`);
    profile = await client.login({ device: false, openBrowser: true, timeoutMs: 60_000 });
  } else if (display) {
    say(`Your browser opens the login page: log in with any user name and the password ${stack.testUser.password}.`);
    profile = await client.login({ device: false });
  } else {
    say(
      `No display here: the device flow. Open the URL below in a browser on this machine; password ${stack.testUser.password}.`,
    );
    profile = await client.login({ device: true });
  }
  say(`Logged in as ${profile.email}. Tokens: ${client.describeTokenStore()}`);
  await client.close();

  step(3, "chat('What is 5 + 7?')");
  const reply = await chat('What is 5 + 7?');
  say(
    `${reply.content}   (model ${reply.model}, ${reply.usage?.totalTokens ?? '?'} tokens${reply.requestId ? `, request ${reply.requestId}` : ''})`,
  );

  step(4, 'storeKey() and listKeys()');
  await storeKey('demo_openai_key', 'sk-demo-not-a-real-key');
  say(`keys: ${JSON.stringify(await listKeys())}`);
  process.stdout.write('\nDone.\n');
} catch (error) {
  process.stderr.write(`\nThe demo failed: ${(error as Error).message}\n`);
  if ((error as { hint?: string }).hint) process.stderr.write(`${(error as { hint?: string }).hint}\n`);
  exitCode = 1;
} finally {
  await browser?.close();
  await getDefaultClient().close();
  await stack.close();
  await rm(tokenDirectory, { recursive: true, force: true });
}
process.exit(exitCode);
