// The CLIs in a real terminal (tmux): what a person sees. The spinner while the browser login is
// pending, and the overwrite prompt of mesh-env answered at the keyboard.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { type Stack, startStack } from '../../dev/stack.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { BIN } from '../helpers/bins.js';
import { chromiumInstalled, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';
import { storedTokens } from '../helpers/token-manager.js';

const tmuxInstalled = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

if (process.env.CI && !tmuxInstalled) {
  it('has tmux installed (CI must run the terminal tests)', () => {
    throw new Error('tmux is missing: .ci/run must install it.');
  });
}

const SOCKET = `mesh-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

/** Starts `command` in a new 250x50 terminal with `env`; the shell prints EXIT=<code> when it ends. */
async function terminal(name: string, env: Record<string, string>, command: string[]): Promise<void> {
  const script = join(await mkdtemp(join(tmpdir(), 'mesh-tty-')), 'run.sh');
  const exports = Object.entries(env).map(([key, value]) => `export ${key}='${value.replace(/'/g, "'\\''")}'`);
  await writeFile(script, `${exports.join('\n')}\n${command.map((part) => `'${part}'`).join(' ')}\necho "EXIT=$?"\nsleep 60\n`);
  tmux('new-session', '-d', '-s', name, '-x', '250', '-y', '50', `sh ${script}`);
}

/** The screen, wrapped lines joined. */
const screen = (name: string) => tmux('capture-pane', '-p', '-J', '-t', name);

async function waitForScreen(name: string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(screen(name));
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}:\n${screen(name)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!tmuxInstalled || !chromiumInstalled())('in a terminal', () => {
  let stack: Stack;
  let browser: Browser;
  let port: number;
  let env: Record<string, string>;
  let directory: string;

  beforeAll(async () => {
    port = await freePort();
    stack = await startStack({ callbackPorts: [port] });
    browser = await launchChromium();
    directory = await mkdtemp(join(tmpdir(), 'mesh-terminal-'));
    env = {
      PATH: process.env.PATH as string,
      HOME: directory,
      ...stack.env,
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: directory,
      MESH_HEADLESS: 'false',
      TERM: 'xterm',
      // Pinned: tmux would otherwise pass on this process's DEBUG or NO_COLOR to the session.
      DEBUG: '',
      NO_COLOR: '',
    };
  }, 60_000);
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await browser?.close();
    await stack?.close();
  });

  it('mesh-auth login shows the URL and a spinner while it waits, then who logged in', async () => {
    await terminal('login', env, [process.execPath, BIN['mesh-auth'], 'login', '--no-browser', '--port', String(port)]);
    const [url] = await waitForScreen('login', /http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+/);
    await waitForScreen('login', /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login in the browser/);
    const context = await loopbackContext(browser);
    await logInWithBrowser(await context.newPage(), url, { login: 'terminal@example.test' });
    await waitForScreen('login', /EXIT=0/);
    const final = screen('login');
    expect(final).toMatch(/Logged in as terminal@example\.test/);
    expect(final).not.toMatch(/Waiting for the login/); // the spinner line was cleared
    await context.close();
  });

  it('mesh-env asks before overwriting: "n" leaves the file, "y" replaces it', async () => {
    await new FileStore({ directory }).save(await storedTokens(stack));
    const path = join(directory, 'app.env');
    await writeFile(path, 'OLD=1\n');

    await terminal('keep', env, [process.execPath, BIN['mesh-env'], '-o', path]);
    await waitForScreen('keep', /exists\. Overwrite it\? \[y\/N\]/);
    tmux('send-keys', '-t', 'keep', 'n', 'Enter');
    await waitForScreen('keep', /EXIT=1/);
    expect(screen('keep')).toMatch(/Left .*app\.env unchanged/);
    expect(await readFile(path, 'utf8')).toBe('OLD=1\n');

    await terminal('replace', env, [process.execPath, BIN['mesh-env'], '-o', path]);
    await waitForScreen('replace', /Overwrite it\? \[y\/N\]/);
    tmux('send-keys', '-t', 'replace', 'y', 'Enter');
    await waitForScreen('replace', /EXIT=0/);
    expect(await readFile(path, 'utf8')).toMatch(/^MESH_REFRESH_TOKEN=\S+$/m);
    expect(existsSync(path)).toBe(true);
  });
});
