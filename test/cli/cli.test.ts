// The built bins against the local stack: output, exit codes and files (modes included). Logins
// go through --no-browser and --headless, with real Chromium following what the CLI printed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { type RecordingOpener, recordingOpener } from '../flow/recording-opener.js';
import { registeredTokens } from '../helpers/backend-login.js';
import { finished, runBin, startBin, waitForStderr } from '../helpers/bins.js';
import { approveDevice, chromiumInstalled, launchChromium, logInWithBrowser, loopbackContext } from '../helpers/browser.js';
import { keychainToolsInstalled, type PrivateBus, startBareBus, startKeyringBus } from '../helpers/dbus.js';
import { pythonTokenFile } from '../helpers/python-format.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';

const installed = chromiumInstalled();

interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  recommendation?: string;
  skipped?: boolean;
}

/**
 * `mesh-auth doctor --json` and the process's own exit code, which must agree with what it
 * printed: 0 when every check passed, 1 when any failed (skipped ones count as failed).
 */
async function doctor(env: NodeJS.ProcessEnv): Promise<{ code: number | null; checks: DoctorCheck[] }> {
  const result = await runBin('mesh-auth', ['doctor', '--json'], env);
  const checks = JSON.parse(result.stdout) as DoctorCheck[];
  expect(checks.length).toBeGreaterThan(0);
  expect(result.code).toBe(checks.every((check) => check.ok) ? 0 : 1);
  return { code: result.code, checks };
}

describe('mesh-auth and mesh-env, without a login', () => {
  const env = { PATH: process.env.PATH, HOME: tmpdir(), MESH_TOKEN_STORE: 'memory' };

  it.each([['mesh-auth'], ['mesh-env']] as const)('%s --help and --version exit 0', async (bin) => {
    const help = await runBin(bin, ['--help'], env);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining(`Usage: ${bin}`)]);
    const version = await runBin(bin, ['--version'], env);
    expect([version.code, version.stdout.trim()]).toEqual([0, '0.1.0']);
  });

  it.each(['login', 'logout', 'status', 'token', 'print-tokens', 'doctor', 'import-python'])(
    'mesh-auth %s --help shows its usage',
    async (command) => {
      const result = await runBin('mesh-auth', [command, '--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: mesh-auth ${command}`));
    },
  );

  it.each([
    [['status', '--bogus'], /Unknown option '--bogus'[\s\S]*Usage: mesh-auth status/],
    [['login', '--port'], /argument missing[\s\S]*Usage: mesh-auth login/],
    [['login', '--port', 'eighty'], /--port needs a port number/],
    [['frobnicate'], /Unknown command "frobnicate"[\s\S]*Usage: mesh-auth \[command\]/],
    // argparse (the Python mesh-auth) refuses an ambiguous abbreviation too: --headless or --help?
    [['--he'], /Option '--he' is ambiguous: it could be --headless, --help[\s\S]*Usage: mesh-auth login/],
  ])('bad usage %j exits 2 with the usage', async (args, message) => {
    const result = await runBin('mesh-auth', args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('mesh-env with a stray argument exits 2', async () => {
    const result = await runBin('mesh-env', ['stray'], env);
    expect([result.code, result.stderr]).toEqual([2, expect.stringContaining('Usage: mesh-env')]);
  });

  it('takes the Python spellings: --clear (abbreviated as argparse allows) and MESH_HEADLESS=auto', async () => {
    const clear = await runBin('mesh-auth', ['--cle'], env);
    expect([clear.code, clear.stderr]).toEqual([0, expect.stringContaining('Logged out: removed the tokens from memory')]);
    const status = await runBin('mesh-auth', ['status'], { ...env, MESH_HEADLESS: 'auto' });
    expect([status.code, status.stderr]).toEqual([1, expect.stringContaining('Not logged in')]);
  });

  it('off a terminal (stderr a pipe) the ✓/✗ marks carry no colour, NO_COLOR unset', async () => {
    expect(env).not.toHaveProperty('NO_COLOR');
    const status = await runBin('mesh-auth', ['status'], env);
    expect([status.code, status.stderr]).toEqual([1, expect.stringMatching(/^✗ Not logged in/)]);
    const logout = await runBin('mesh-auth', ['logout'], env);
    expect([logout.code, logout.stderr]).toEqual([0, expect.stringMatching(/^✓ /)]);
    expect(status.stderr + logout.stderr).not.toContain('\u001b[');
  });

  it('a bad configuration value exits 1 and says which', async () => {
    const result = await runBin('mesh-auth', ['status'], { ...env, AUTH0_CALLBACK_PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/AUTH0_CALLBACK_PORT is invalid: got "abc"/);
  });
});

/** The login link the CLI prints: the listener's one-time start link. */
const START_LINK = /http:\/\/localhost:\d+\/start\/[A-Za-z0-9_-]{43}/;

/** Neither token of the stored set appears in `output`, and the output says where to get them. */
async function expectNoSecrets(tokenFile: string, output: string): Promise<void> {
  const stored = JSON.parse(await readFile(tokenFile, 'utf8'));
  for (const secret of [stored.access_token, stored.refresh_token]) {
    expect(secret).toEqual(expect.any(String));
    expect(output).not.toContain(secret);
  }
  expect(output).not.toMatch(/MESH_(ACCESS|REFRESH)_TOKEN=/);
  expect(output).toContain('npx mesh-auth print-tokens');
  expect(output).toContain('npx mesh-env -o .env');
  expect(output).toContain('npx mesh-env --api-key <name>');
}

describe.skipIf(!installed)('mesh-auth and mesh-env against the local stack', () => {
  let browser: Browser;
  let page: Page;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let directory: string;
  // A directory the CLI creates: its mode is then the CLI's doing (mkdtemp's is 0700 already).
  const tokenDirectory = () => join(directory, 'tokens');
  const tokenFile = () => join(tokenDirectory(), 'token.json');
  const stack = useStack(async () => {
    port = await freePort();
    return { callbackPorts: [port], provider: { deviceInterval: 1 } };
  });

  beforeAll(async () => {
    browser = await launchChromium();
    page = await (await loopbackContext(browser)).newPage();
    directory = await scratchDir('mesh-cli-');
    env = {
      PATH: process.env.PATH,
      HOME: directory,
      ...stack.env,
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: join(directory, 'tokens'),
      MESH_HEADLESS: 'false',
    };
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Runs mesh-auth with `args`, approves its device code in a fresh browser profile (no provider session), and waits for it. */
  async function deviceLogin(args: string[], withEnv: NodeJS.ProcessEnv) {
    const child = startBin('mesh-auth', args, withEnv);
    const result = finished(child);
    const url = await waitForStderr(child, /http:\/\/127\.0\.0\.1:\d+\/activate\?user_code=\S+/);
    const fresh = await loopbackContext(browser);
    await approveDevice(await fresh.newPage(), url);
    const done = await result;
    await fresh.close();
    return done;
  }

  it('status says not logged in (exit 1); token says what to run (exit 4, nothing on stdout)', async () => {
    const status = await runBin('mesh-auth', ['status'], env);
    expect([status.code, status.stderr]).toEqual([1, expect.stringContaining('Not logged in')]);
    const token = await runBin('mesh-auth', ['token'], env);
    expect(token.code).toBe(4);
    expect(token.stdout).toBe('');
    expect(token.stderr).toMatch(/npx mesh-auth/);
  });

  it('login --no-browser prints the one-time login link; a browser following it completes the login', async () => {
    const child = startBin('mesh-auth', ['login', '--no-browser', '--port', String(port)], env);
    const result = finished(child);
    const url = await waitForStderr(child, START_LINK);
    await logInWithBrowser(page, url, { login: 'cli-user@example.test' });
    const { code, stderr } = await result;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/Logged in as cli-user@example\.test/);
    // No spinner and no colour when stderr is not a terminal.
    expect(stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(stderr.includes('\u001b[')).toBe(false);
    expect((await stat(tokenFile())).mode & 0o777).toBe(0o600);
    expect((await stat(tokenDirectory())).mode & 0o777).toBe(0o700);
  });

  it('login again without --force says who is logged in and stops', async () => {
    const result = await runBin('mesh-auth', ['login', '--no-browser', '--port', String(port)], env);
    expect([result.code, result.stderr]).toEqual([0, expect.stringMatching(/Already logged in as cli-user@example\.test/)]);
  });

  it('status shows who, expiry, store and the validation source; --json for scripts', async () => {
    const text = await runBin('mesh-auth', ['status'], env);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/Logged in as cli-user@example\.test/);
    expect(text.stderr).toMatch(/expires: \d{4}-\d\d-\d\dT/);
    expect(text.stderr).toContain(`file ${tokenFile()}`);
    expect(text.stderr).toMatch(/the backend validator/);
    const json = JSON.parse((await runBin('mesh-auth', ['status', '--json'], env)).stdout);
    expect(json).toMatchObject({
      loggedIn: true,
      email: 'cli-user@example.test',
      validationSource: 'backend',
      store: `file ${tokenFile()}`,
    });
  });

  it('token prints the access token and nothing else', async () => {
    const result = await runBin('mesh-auth', ['token'], env);
    const stored = JSON.parse(await readFile(tokenFile(), 'utf8'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${stored.access_token}\n`);
  });

  it('print-tokens prints the export lines and the dashboard form', async () => {
    const result = await runBin('mesh-auth', ['print-tokens'], env);
    const stored = JSON.parse(await readFile(tokenFile(), 'utf8'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('export MESH_TOKEN_FROM_ENV=true');
    expect(result.stdout).toContain(`export MESH_REFRESH_TOKEN=${stored.refresh_token}`);
    expect(result.stdout).toContain(`\nMESH_ACCESS_TOKEN=${stored.access_token}\n`);
  });

  describe.skipIf(!keychainToolsInstalled())('doctor with the OS keychain working, then not', () => {
    let keyring: PrivateBus;
    let bare: PrivateBus;
    beforeAll(async () => {
      keyring = await startKeyringBus();
      bare = await startBareBus();
    });
    afterAll(async () => {
      await keyring?.stop();
      await bare?.stop();
    });

    it('every check passes: exit 0 (--json and text)', async () => {
      const withKeyring = { ...env, MESH_TOKEN_STORE: 'auto', DBUS_SESSION_BUS_ADDRESS: keyring.address };
      const { code, checks } = await doctor(withKeyring);
      expect(checks.map((check) => [check.name, check.ok])).toEqual([
        ['configuration', true],
        ['api', true],
        ['auth0', true],
        ['keychain', true],
        ['validate-endpoint', true],
        ['token', true],
        ['api-call', true],
      ]);
      expect(code).toBe(0);
      const text = await runBin('mesh-auth', ['doctor'], withKeyring);
      expect(text.code).toBe(0);
      expect(text.stderr).toMatch(/^✓ keychain: the OS keychain works$/m);
      expect(text.stderr).not.toContain('✗');
    });

    it('the keychain alone fails (a bus without a Secret Service): exit 1 (--json and text)', async () => {
      const withoutKeyring = { ...env, MESH_TOKEN_STORE: 'auto', DBUS_SESSION_BUS_ADDRESS: bare.address };
      const { code, checks } = await doctor(withoutKeyring);
      expect(checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(['keychain']);
      expect(checks.find((check) => check.name === 'keychain')).toMatchObject({
        detail: expect.stringMatching(/^unavailable: /),
        recommendation: expect.any(String),
      });
      expect(code).toBe(1);
      const text = await runBin('mesh-auth', ['doctor'], withoutKeyring);
      expect(text.code).toBe(1);
      expect(text.stderr).toMatch(/^✗ keychain: unavailable: /m);
    });

    it("after troubleshooting.md's advice (MESH_TOKEN_STORE=file), the same machine comes out clean: exit 0", async () => {
      const text = await runBin('mesh-auth', ['doctor'], { ...env, DBUS_SESSION_BUS_ADDRESS: bare.address });
      expect(text.stderr).toMatch(/^✓ keychain: not in use: MESH_TOKEN_STORE=file$/m);
      expect(text.stderr).not.toContain('✗');
      expect(text.code).toBe(0);
    });
  });

  it('doctor with MESH_API_URL=ftp://x reports the ConfigError first and still runs the checks that do not need it', async () => {
    const { code, checks } = await doctor({ ...env, MESH_API_URL: 'ftp://x' });
    expect(code).toBe(1);
    expect(checks[0]).toEqual({
      name: 'configuration',
      ok: false,
      detail: expect.stringMatching(
        /^The environment variable MESH_API_URL is invalid: got "ftp:\/\/x"; expected an https:\/\/ URL/,
      ),
      recommendation: 'Fix or unset environment variable MESH_API_URL.',
    });
    const byName = Object.fromEntries(checks.map((check) => [check.name, check]));
    expect(byName.auth0).toMatchObject({ ok: true }); // AUTH0_DOMAIN is fine: checked anyway
    expect(byName.keychain).toBeDefined();
    for (const name of ['api', 'validate-endpoint', 'token']) {
      expect(byName[name]).toMatchObject({ ok: false, skipped: true, detail: expect.stringContaining('MESH_API_URL') });
    }

    const text = await runBin('mesh-auth', ['doctor'], { ...env, MESH_API_URL: 'ftp://x' });
    expect(text.code).toBe(1);
    expect(text.stderr.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^✗ configuration: The environment variable MESH_API_URL is invalid/),
      '    → Fix or unset environment variable MESH_API_URL.',
    ]);
    expect(text.stderr).toMatch(/^- api: skipped: needs a valid MESH_API_URL/m);
  });

  it('doctor with a bad setting the token does not need still checks the token and the API call', async () => {
    const { code, checks } = await doctor({ ...env, AUTH0_CALLBACK_PORT: 'abc' });
    expect(checks[0]).toMatchObject({ name: 'configuration', ok: false, detail: expect.stringContaining('AUTH0_CALLBACK_PORT') });
    const byName = Object.fromEntries(checks.map((check) => [check.name, check.ok]));
    expect(byName).toMatchObject({ api: true, auth0: true, 'validate-endpoint': true, token: true, 'api-call': true });
    expect(code).toBe(1);
  });

  it('mesh-env writes a 0600 .env with the tokens and the rotation warning, and will not overwrite without -f', async () => {
    const path = join(directory, 'deploy.env');
    const first = await runBin('mesh-env', ['-o', path], env);
    expect(first.code).toBe(0);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const content = await readFile(path, 'utf8');
    expect(content).toMatch(/^MESH_TOKEN_FROM_ENV=true$/m);
    expect(content).toMatch(/^MESH_REFRESH_TOKEN=\S+$/m);
    expect(content).toMatch(/^MESH_API_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(content).toMatch(/^# .*revokes the whole family/m);
    expect(first.stderr).toMatch(/revokes the whole family/);

    const refused = await runBin('mesh-env', ['-o', path], env);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('not overwriting it without -f')]);
    expect(await readFile(path, 'utf8')).toBe(content);
    const forced = await runBin('mesh-env', ['-o', path, '-f'], env);
    expect(forced.code).toBe(0);
  });

  it('mesh-env --api-key NAME writes a working MESH_API_KEY', async () => {
    const path = join(directory, 'server.env');
    const result = await runBin('mesh-env', ['--api-key', 'render-prod', '-o', path], env);
    expect(result.code).toBe(0);
    const key = /^MESH_API_KEY=(mesh_\S+)$/m.exec(await readFile(path, 'utf8'))?.[1];
    expect(key).toBeDefined();
    // The key was made under the name given (the backend's own record, not the CLI's echo of it).
    expect(stack.backend.state.findApiKey(key as string)?.name).toBe('render-prod');
    // Sent as the Python SDK sends a key (contract v2: both headers, never Bearer).
    const profile = await fetch(`${stack.apiUrl}/auth/profile`, {
      headers: { authorization: `ApiKey ${key}`, 'x-api-key': key as string },
    });
    expect(profile.status).toBe(200);
  });

  it('mesh-env refuses a file in a git work tree that does not ignore it (before logging in), writes it with -f and a warning, and writes an ignored one', async () => {
    const repo = await scratchDir('mesh-repo-');
    execFileSync('git', ['init', '-q'], { cwd: repo });
    const refused = await runBin('mesh-env', ['-o', join(repo, '.env')], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /inside a git work tree and not ignored: a commit could publish it\. Add it to \.gitignore, or pass -f/,
    );
    expect(existsSync(join(repo, '.env'))).toBe(false);
    const forced = await runBin('mesh-env', ['-f', '-o', join(repo, '.env')], env);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/not ignored: add it to \.gitignore before committing anything/);
    await writeFile(join(repo, '.gitignore'), '.env\n');
    const ignored = await runBin('mesh-env', ['-f', '-o', join(repo, '.env')], env);
    expect(ignored.code).toBe(0);
    expect(ignored.stderr).not.toMatch(/not ignored/);
  });

  it('logout says where it removed the tokens from; status then exits 1', async () => {
    const result = await runBin('mesh-auth', ['logout'], env);
    expect([result.code, result.stderr]).toEqual([0, expect.stringContaining(`removed the tokens from file ${tokenFile()}`)]);
    expect((await runBin('mesh-auth', ['status'], env)).code).toBe(1);
  });

  it('login --headless prints the device code; approving it logs in and says how to get the variables, never printing a token', async () => {
    const { code, stdout, stderr } = await deviceLogin(['login', '--headless'], env);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/enter the code: \S+/);
    // Whose email the profile shows is the backend's business (the device application's access
    // token may carry no email claim); the CLI's is to say who the profile says logged in.
    expect(stderr).toMatch(/Logged in as \S+@\S+\. Tokens: file /);
    // Regression: the export lines (the refresh token included) went to stderr unasked.
    await expectNoSecrets(tokenFile(), stdout + stderr);
  }, 30_000);

  it('mesh-auth --clear (the Python SDK spelling) logs out, whatever else is given', async () => {
    const result = await runBin('mesh-auth', ['--clear', '--headless'], env);
    expect([result.code, result.stderr]).toEqual([0, expect.stringContaining(`removed the tokens from file ${tokenFile()}`)]);
    expect((await runBin('mesh-auth', ['status'], env)).code).toBe(1);
  });

  // Regression: without --headless the CLI asked for a browser login whatever the verdict, and
  // over SSH or in a container waited for a callback that could not come.
  it.each([
    ['MESH_HEADLESS=true', { MESH_HEADLESS: 'true' }],
    ['no display and MESH_HEADLESS unset', { MESH_HEADLESS: undefined }],
  ])(
    'mesh-auth with %s and no flag logs in with a device code, and prints no token',
    async (_name, headless) => {
      const own = { ...env, ...headless, MESH_TOKEN_DIR: await scratchDir('mesh-cli-headless-') };
      expect(own).not.toHaveProperty('DISPLAY');
      const { code, stdout, stderr } = await deviceLogin([], own);
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/enter the code: \S+/);
      expect(stderr).not.toMatch(/Opened your browser|\/start\//);
      expect(stderr).toMatch(/Logged in as \S+@\S+\. Tokens: file /);
      await expectNoSecrets(join(own.MESH_TOKEN_DIR, 'token.json'), stdout + stderr);
    },
    30_000,
  );

  describe('the browser opener (xdg-open, with a stand-in browser)', () => {
    /** Runs `mesh-auth login` with the stand-in; returns what it printed, the link and what reached xdg-open. */
    async function loginWith(opener: RecordingOpener) {
      const own = { ...env, ...opener.env, MESH_TOKEN_DIR: await scratchDir('mesh-cli-opener-') };
      const child = startBin('mesh-auth', ['login', '--port', String(port)], own);
      const result = finished(child);
      const link = await waitForStderr(child, START_LINK);
      const handed = await opener.opened();
      // The person (or the stand-in's browser) follows the link: the login completes through it.
      const context = await loopbackContext(browser);
      await logInWithBrowser(await context.newPage(), link, { login: 'opener@example.test' });
      const { code, stderr } = await result;
      await context.close();
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/Logged in as opener@example\.test/);
      return { stderr, link, handed };
    }

    it('with a display: xdg-open gets the one-time link, never the state; "Opened your browser"', async () => {
      const { stderr, link, handed } = await loginWith(await recordingOpener({ display: true }));
      expect(handed).toEqual([link]);
      expect(link).not.toMatch(/state|\?/);
      expect(stderr).toContain(`Opened your browser to log in to Mesh. If it did not open, visit:\n${link}\n`);
    }, 30_000);

    it('without a display: xdg-open is not even run, and the CLI says to open the link', async () => {
      const { stderr, link, handed } = await loginWith(await recordingOpener({ display: false }));
      expect(handed).toEqual([]);
      expect(stderr).toContain(`To log in to Mesh, open this URL in a browser:\n${link}\n`);
      expect(stderr).not.toMatch(/Opened your browser/);
    }, 30_000);

    it('when xdg-open fails (exits non-zero after a moment): not claimed as opened', async () => {
      const { stderr, link, handed } = await loginWith(await recordingOpener({ display: true, exit: 1, delaySeconds: 0.3 }));
      expect(handed.length).toBeGreaterThan(0);
      for (const seen of handed) expect(seen).toBe(link);
      expect(stderr).toContain(`To log in to Mesh, open this URL in a browser:\n${link}\n`);
      expect(stderr).not.toMatch(/Opened your browser/);
    }, 30_000);
  });
});

// Issue 19 item 1: a Python SDK token file is never read unless named; `import-python` is the
// explicit way to bring its login over, once.
describe('mesh-auth import-python', () => {
  const stack = useStack();
  async function setup() {
    const home = await scratchDir('mesh-import-');
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ...stack.env,
      CI: 'true',
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: join(home, '.mesh'),
    };
    const { tokens } = await registeredTokens(stack, { login: 'pythonista@example.test' });
    const file = join(home, 'project', '.mesh_token.json');
    await mkdir(join(home, 'project'));
    await writeFile(file, pythonTokenFile(tokens), { mode: 0o600 });
    return { home, env, file, project: join(home, 'project') };
  }

  it("copies the login into mesh-sdk's own store, says whose it is and that the file still holds it; --remove deletes it", async () => {
    const { env, file, project, home } = await setup();
    const first = await runBin('mesh-auth', ['import-python', file], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`Imported the login of pythonista@example.test from ${file}`);
    expect(first.stderr).toMatch(/still holds the same refresh token/);
    const status = await runBin('mesh-auth', ['status'], env);
    expect([status.code, status.stderr]).toEqual([0, expect.stringContaining(`file ${join(home, '.mesh', 'token.json')}`)]);
    // Already logged in: not replaced without --force. Then, from the project directory (the default path), --remove.
    const again = await runBin('mesh-auth', ['import-python'], env, project);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/already holds a login.*--force/)]);
    const moved = await runBin('mesh-auth', ['import-python', '--force', '--remove'], env, project);
    expect([moved.code, moved.stderr]).toEqual([0, expect.stringContaining(`Removed ${file}`)]);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a file for another deployment, a symbolic link, and a missing file, each saying why', async () => {
    const { env, file, home } = await setup();
    const elsewhere = await runBin('mesh-auth', ['import-python', file], { ...env, AUTH0_AUDIENCE: 'https://another.example' });
    expect([elsewhere.code, elsewhere.stderr]).toEqual([1, expect.stringContaining('not for this Mesh deployment')]);
    const link = join(home, 'link.json');
    await symlink(file, link);
    const linked = await runBin('mesh-auth', ['import-python', link], env);
    expect([linked.code, linked.stderr]).toEqual([1, expect.stringContaining('symbolic link')]);
    const missing = await runBin('mesh-auth', ['import-python', join(home, 'nothing.json')], env);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('There is no Python SDK token file')]);
    const status = await runBin('mesh-auth', ['status'], env);
    expect(status.code).toBe(1); // nothing was imported
  });
});
