// The CLIs in a real terminal (tmux): what a person sees. Colour (and NO_COLOR), the spinner while
// the browser login is pending and Ctrl-C on it, and the overwrite prompt of mesh-env answered at
// the keyboard.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { BIN } from '../helpers/bins.js';
import { chromiumInstalled, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
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

const quote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;

/**
 * Starts `command` in a new 250x50 terminal with `env`; the shell prints EXIT=<code> when it ends.
 * `stderrTo` sends the command's stderr to that file instead (stdin and stdout stay the terminal).
 */
async function terminal(
  name: string,
  env: Record<string, string | undefined>,
  command: string[],
  options: { stderrTo?: string } = {},
): Promise<void> {
  const script = join(await scratchDir('mesh-tty-'), 'run.sh');
  // undefined unsets: tmux would otherwise pass on this process's value to the session.
  const exports = Object.entries(env).map(([key, value]) =>
    value === undefined ? `unset ${key}` : `export ${key}=${quote(value)}`,
  );
  const redirect = options.stderrTo ? ` 2>${quote(options.stderrTo)}` : '';
  // The trap keeps the shell alive through a Ctrl-C meant for the command (so EXIT= is printed);
  // a trapped signal, unlike an ignored one, is back to its default in the command.
  await writeFile(
    script,
    `${exports.join('\n')}\ntrap : INT\n${command.map(quote).join(' ')}${redirect}\necho "EXIT=$?"\nsleep 60\n`,
  );
  tmux('new-session', '-d', '-s', name, '-x', '250', '-y', '50', `sh ${script}`);
}

/** The screen, wrapped lines joined; with `escapes`, the colour and attribute codes too. */
const screen = (name: string, escapes = false) => tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', name);

async function waitForScreen(name: string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(screen(name));
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}:\n${screen(name)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {}
});

describe.skipIf(!tmuxInstalled)('colour', () => {
  // No stack needed: `status` without tokens marks its line with a red ✗, logging out of memory
  // with a green ✓.
  const env = { PATH: process.env.PATH as string, HOME: tmpdir(), MESH_TOKEN_STORE: 'memory', TERM: 'xterm', DEBUG: '' };
  const RED_CROSS = '\u001b[31m✗';
  const GREEN_TICK = '\u001b[32m✓';
  const ESCAPE = '\u001b[';

  async function run(name: string, args: string[], extra: Record<string, string | undefined>, stderrTo?: string) {
    await terminal(name, { ...env, ...extra }, [process.execPath, BIN['mesh-auth'], ...args], stderrTo ? { stderrTo } : {});
    const [, code] = await waitForScreen(name, /EXIT=(\d+)/);
    return { code, screen: screen(name, true) };
  }

  it.each([
    { id: 'unset', noColor: undefined, label: 'unset' },
    { id: 'empty', noColor: '', label: 'empty (no-color.org: present and empty counts as unset)' },
  ])('on a terminal with NO_COLOR $label: ✗ in red, ✓ in green', async ({ id, noColor }) => {
    const status = await run(`status-${id}`, ['status'], { NO_COLOR: noColor });
    expect(status.code).toBe('1');
    expect(status.screen).toContain(RED_CROSS);
    expect(status.screen).toMatch(/✗\S* Not logged in/);
    const logout = await run(`logout-${id}`, ['logout'], { NO_COLOR: noColor });
    expect(logout.code).toBe('0');
    expect(logout.screen).toContain(GREEN_TICK);
  });

  it('on a terminal with NO_COLOR=1: the same marks, no colour codes at all', async () => {
    const status = await run('status-nocolor', ['status'], { NO_COLOR: '1' });
    expect(status.code).toBe('1');
    expect(status.screen).toMatch(/^✗ Not logged in/m);
    expect(status.screen).not.toContain(ESCAPE);
    const logout = await run('logout-nocolor', ['logout'], { NO_COLOR: '1' });
    expect(logout.code).toBe('0');
    expect(logout.screen).toMatch(/^✓ /m);
    expect(logout.screen).not.toContain(ESCAPE);
  });

  it('stderr off the terminal (stdin and stdout still on it): no colour, NO_COLOR unset', async () => {
    const file = join(await scratchDir('mesh-tty-'), 'stderr.txt');
    const status = await run('status-redirected', ['status'], { NO_COLOR: undefined }, file);
    expect(status.code).toBe('1');
    const written = await readFile(file, 'utf8');
    expect(written).toMatch(/^✗ Not logged in/);
    expect(written).not.toContain(ESCAPE);
  });
});

describe.skipIf(!tmuxInstalled || !chromiumInstalled())('in a terminal', () => {
  let browser: Browser;
  let port: number;
  let env: Record<string, string>;
  let directory: string;
  const stack = useStack(async () => {
    port = await freePort();
    return { callbackPorts: [port] };
  });

  beforeAll(async () => {
    browser = await launchChromium();
    directory = await scratchDir('mesh-terminal-');
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
    await browser?.close();
  });

  it('mesh-auth login shows the login link and a spinner while it waits, then who logged in', async () => {
    await terminal('login', env, [process.execPath, BIN['mesh-auth'], 'login', '--no-browser', '--port', String(port)]);
    const [url] = await waitForScreen('login', /http:\/\/localhost:\d+\/start\/[A-Za-z0-9_-]{43}/);
    await waitForScreen('login', /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login in the browser/);
    const context = await loopbackContext(browser);
    await logInWithBrowser(await context.newPage(), url, { login: 'terminal@example.test' });
    await waitForScreen('login', /EXIT=0/);
    const final = screen('login');
    expect(final).toMatch(/Logged in as terminal@example\.test/);
    expect(final).not.toMatch(/Waiting for the login/); // the spinner line was cleared
    await context.close();
  });

  it('Ctrl-C while the login waits: the spinner line is cleared, "Cancelled." and exit 130', async () => {
    // Tokens in memory: the login above left a file store logged in.
    await terminal('cancel', { ...env, MESH_TOKEN_STORE: 'memory' }, [
      process.execPath,
      BIN['mesh-auth'],
      'login',
      '--no-browser',
      '--port',
      String(port),
    ]);
    await waitForScreen('cancel', /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login in the browser/);
    tmux('send-keys', '-t', 'cancel', 'C-c');
    const [, code] = await waitForScreen('cancel', /EXIT=(\d+)/);
    expect(code).toBe('130');
    const final = screen('cancel');
    // On a line of its own: written over a spinner line that was not cleared, it would not be.
    expect(final).toMatch(/^Cancelled\.$/m);
    expect(final).not.toMatch(/Waiting for the login/);
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
