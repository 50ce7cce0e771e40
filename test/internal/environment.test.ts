// The one probe of the environment (src/internal/environment.ts) and the verdicts read from it
// (src/internal/headless.ts): the Python SDK's signals (token_manager.py 1.5.4, auth.py 1.5.5) each
// decide, the verdict names the one that did, CI is never interactive, and the process's files are
// read once. Real processes: the probe with nothing injected, over pipes and in a pseudo-terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, MeshClient, MeshError } from '../../src/index.js';
import {
  createEnvironmentSource,
  currentEnvironment,
  type EnvironmentInputs,
  probeEnvironment,
} from '../../src/internal/environment.js';
import { detectHeadless, type HeadlessProbe, isInteractive } from '../../src/internal/headless.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CHILD = join(HERE, 'environment-child.ts');

const PLAIN_CGROUP = '0::/user.slice/user-1000.slice/session-2.scope\n';
const WSL2_VERSION = 'Linux version 5.15.167.4-microsoft-standard-WSL2 (root@f9c826d3017f) (gcc (GCC) 11.2.0) #1 SMP';

/** A Linux desktop with a display and no container files, plus `env`. */
const desktop = (env: Record<string, string> = {}): HeadlessProbe & EnvironmentInputs => ({
  env: { DISPLAY: ':0', ...env },
  platform: 'linux',
  exists: () => false,
  readText: (path) => (path === '/proc/1/cgroup' ? PLAIN_CGROUP : undefined),
});

describe('probeEnvironment', () => {
  it('sees a Linux desktop as one: no signal at all', () => {
    expect(probeEnvironment({ ...desktop(), stdin: { isTTY: true }, stdout: { isTTY: false }, stderr: {} })).toEqual({
      platform: 'linux',
      env: { DISPLAY: ':0' },
      tty: { stdin: true, stdout: false, stderr: false },
      ssh: undefined,
      wsl: undefined,
      container: undefined,
      ci: undefined,
      hosting: undefined,
      display: 'DISPLAY',
      noColor: false,
    });
  });

  it.each([
    ['CI', 'true', 'CI'],
    ['CI', '1', 'CI'],
    ['GITHUB_ACTIONS', 'true', 'GitHub Actions'],
    ['GITLAB_CI', 'true', 'GitLab CI'],
    ['TRAVIS', 'true', 'Travis CI'],
    ['JENKINS_URL', 'https://jenkins.example/', 'Jenkins'],
  ])('names CI from %s=%s', (variable, value, name) => {
    const environment = probeEnvironment(desktop({ [variable]: value }));
    expect(environment.ci).toEqual({ variable, name });
    expect(environment.hosting).toBeUndefined();
  });

  it.each([
    ['RENDER', 'true', 'Render'],
    ['KUBERNETES_SERVICE_HOST', '10.0.0.1', 'Kubernetes'],
    ['AWS_LAMBDA_FUNCTION_NAME', 'my-function', 'AWS Lambda'],
    ['K_SERVICE', 'my-service', 'Cloud Run'],
    ['GOOGLE_CLOUD_PROJECT', 'my-project', 'Google Cloud'],
    ['DOCKER', 'true', 'Docker'],
  ])('names the hosting platform from %s=%s', (variable, value, name) => {
    const environment = probeEnvironment(desktop({ [variable]: value }));
    expect(environment.hosting).toEqual({ variable, name });
    expect(environment.ci).toBeUndefined();
  });

  it('does not count CI=false, CI=0, empty or "no" values', () => {
    for (const env of [
      { CI: 'false' },
      { CI: '0' },
      { CI: ' ' },
      { GITHUB_ACTIONS: 'no' },
      { DOCKER: 'off' },
      { RENDER: '' },
    ] as Record<string, string>[]) {
      const environment = probeEnvironment(desktop(env));
      expect([environment.ci, environment.hosting]).toEqual([undefined, undefined]);
    }
  });

  it('names the SSH variable', () => {
    expect(probeEnvironment(desktop({ SSH_CONNECTION: '10.0.0.2 50000 10.0.0.3 22' })).ssh).toBe('SSH_CONNECTION');
    expect(probeEnvironment(desktop({ SSH_TTY: '/dev/pts/1' })).ssh).toBe('SSH_TTY');
    expect(probeEnvironment(desktop({ SSH_TTY: '' })).ssh).toBeUndefined();
  });

  it('sees WSL by its variable, or by /proc/version alone (no WSL_DISTRO_NAME: sudo, a service)', () => {
    expect(probeEnvironment(desktop({ WSL_DISTRO_NAME: 'Ubuntu-22.04' })).wsl).toBe('WSL_DISTRO_NAME');
    const kernel = { ...desktop(), readText: (path: string) => (path === '/proc/version' ? WSL2_VERSION : undefined) };
    expect(probeEnvironment(kernel).wsl).toBe('/proc/version');
    expect(probeEnvironment(desktop()).wsl).toBeUndefined();
  });

  it('names the container file, on Linux only', () => {
    for (const file of ['/.dockerenv', '/run/.containerenv']) {
      expect(probeEnvironment({ ...desktop(), exists: (path) => path === file }).container).toBe(file);
    }
    for (const cgroup of ['0::/kubepods/besteffort/pod1\n', '12:pids:/docker/3f2a\n', '0::/machine.slice/libpod-1.scope\n']) {
      expect(probeEnvironment({ ...desktop(), readText: () => cgroup }).container).toBe('/proc/1/cgroup');
    }
    expect(probeEnvironment({ ...desktop(), platform: 'darwin', exists: () => true }).container).toBeUndefined();
  });

  it('reads the display on Linux; macOS and Windows have their own', () => {
    expect(probeEnvironment({ ...desktop(), env: { WAYLAND_DISPLAY: 'wayland-0' } }).display).toBe('WAYLAND_DISPLAY');
    expect(probeEnvironment({ ...desktop(), env: {} }).display).toBeUndefined();
    expect(probeEnvironment({ ...desktop(), env: {}, platform: 'darwin' }).display).toBe('native');
    expect(probeEnvironment({ ...desktop(), env: {}, platform: 'win32' }).display).toBe('native');
  });

  it('reads NO_COLOR when set and not empty', () => {
    expect(probeEnvironment(desktop({ NO_COLOR: '1' })).noColor).toBe(true);
    expect(probeEnvironment(desktop({ NO_COLOR: '' })).noColor).toBe(false);
  });

  it('keeps only the variables it read, none of the others', () => {
    const environment = probeEnvironment(desktop({ CI: 'true', MESH_API_KEY: 'mesh_not_for_logs', HOME: '/home/someone' }));
    expect(environment.env).toEqual({ DISPLAY: ':0', CI: 'true' });
  });

  it('treats a reader that throws as "no such file"', () => {
    const refusing = () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    const environment = probeEnvironment({ env: {}, platform: 'linux', exists: refusing, readText: refusing });
    expect([environment.container, environment.wsl]).toEqual([undefined, undefined]);
  });

  it('takes the variables from the env given (a client option) and the files from the process', () => {
    const environment = probeEnvironment({ env: { GITLAB_CI: 'true' } });
    expect(environment.ci?.variable).toBe('GITLAB_CI');
    expect(environment.container).toBe(currentEnvironment().container);
    expect(environment.wsl).toBe(currentEnvironment().wsl);
  });
});

describe('the environment of a process', () => {
  it('reads each file once, however many probes and environments are asked for', () => {
    const reads: string[] = [];
    const source = createEnvironmentSource({
      env: { DISPLAY: ':0' },
      platform: 'linux',
      exists: (path) => {
        reads.push(`exists ${path}`);
        return false;
      },
      readText: (path) => {
        reads.push(`read ${path}`);
        return path === '/proc/version' ? WSL2_VERSION : PLAIN_CGROUP;
      },
    });
    const first = source.current();
    expect(source.current()).toBe(first);
    expect(source.probe({ env: { CI: 'true' } }).ci?.variable).toBe('CI');
    expect(source.probe({ env: {} }).wsl).toBe('/proc/version');
    expect(first.wsl).toBe('/proc/version');
    expect(reads.sort()).toEqual([
      'exists /.dockerenv',
      'exists /run/.containerenv',
      'read /proc/1/cgroup',
      'read /proc/version',
    ]);
  });

  it('is probed once: currentEnvironment() is the same object every time', () => {
    expect(currentEnvironment()).toBe(currentEnvironment());
    expect(Object.isFrozen(currentEnvironment())).toBe(true);
  });

  it("matches this machine's own files and variables", () => {
    const environment = currentEnvironment();
    expect(environment.platform).toBe(process.platform);
    const cgroup = existsSync('/proc/1/cgroup') ? readFileSync('/proc/1/cgroup', 'utf8') : '';
    const expectedContainer =
      process.platform !== 'linux'
        ? undefined
        : existsSync('/.dockerenv')
          ? '/.dockerenv'
          : existsSync('/run/.containerenv')
            ? '/run/.containerenv'
            : /docker|kubepods|containerd|lxc|libpod/.test(cgroup)
              ? '/proc/1/cgroup'
              : undefined;
    expect(environment.container).toBe(expectedContainer);
    expect(environment.ci?.variable).toBe(probeEnvironment({ env: process.env }).ci?.variable);
  });

  /** Runs the child with exactly `env` (plus PATH and HOME), stdio on pipes. */
  function child(env: Record<string, string>, viaTerminal = false) {
    const node = [process.execPath, '--import', 'tsx', CHILD];
    const command = viaTerminal
      ? ['script', ['-qec', node.map((part) => `'${part}'`).join(' '), '/dev/null']]
      : [node[0], node.slice(1)];
    const result = spawnSync(command[0] as string, command[1] as string[], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    const line = result.stdout.split(/\r?\n/).find((text) => text.startsWith('{'));
    if (!line) throw new Error(`no JSON from the child (status ${result.status}): ${result.stderr}`);
    return JSON.parse(line);
  }

  it('in a real process, reads its variables with nothing injected (pipes: no terminal)', () => {
    const seen = child({ CI: 'false', GITHUB_ACTIONS: 'true', SSH_TTY: '/dev/pts/9', WSL_DISTRO_NAME: 'Ubuntu', NO_COLOR: '1' });
    expect(seen.same).toBe(true);
    expect(seen.environment).toMatchObject({
      platform: process.platform,
      tty: { stdin: false, stdout: false, stderr: false },
      ssh: 'SSH_TTY',
      wsl: 'WSL_DISTRO_NAME',
      ci: { variable: 'GITHUB_ACTIONS', name: 'GitHub Actions' },
      noColor: true,
    });
    expect(seen.interactive).toBe(false);
    expect(seen.headless).toEqual({ headless: true, reason: 'GitHub Actions (GITHUB_ACTIONS is set)', signal: 'GITHUB_ACTIONS' });
    expect(seen.remote).toBe('an SSH session');
  });

  const scriptInstalled = (() => {
    try {
      execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!scriptInstalled)('in a real pseudo-terminal, is interactive unless CI is set', () => {
    const atTerminal = child({ DISPLAY: ':0' }, true);
    expect(atTerminal.environment.tty).toEqual({ stdin: true, stdout: true, stderr: true });
    expect(atTerminal.interactive).toBe(true);
    const inCi = child({ DISPLAY: ':0', CI: 'true' }, true);
    expect(inCi.environment.tty).toEqual({ stdin: true, stdout: true, stderr: true });
    expect(inCi.interactive).toBe(false);
  });
});

describe('detectHeadless', () => {
  it('sees a desktop as a desktop', () => {
    expect(detectHeadless(undefined, desktop())).toEqual({ headless: false, reason: 'desktop session' });
  });

  it.each([
    ['CI', 'true', 'CI'],
    ['GITHUB_ACTIONS', 'true', 'GitHub Actions'],
    ['GITLAB_CI', 'true', 'GitLab CI'],
    ['TRAVIS', 'true', 'Travis CI'],
    ['JENKINS_URL', 'https://jenkins.example/', 'Jenkins'],
    ['RENDER', 'true', 'Render'],
    ['KUBERNETES_SERVICE_HOST', '10.0.0.1', 'Kubernetes'],
    ['AWS_LAMBDA_FUNCTION_NAME', 'my-function', 'AWS Lambda'],
    ['K_SERVICE', 'my-service', 'Cloud Run'],
    ['GOOGLE_CLOUD_PROJECT', 'my-project', 'Google Cloud'],
    ['DOCKER', 'true', 'Docker'],
    ['SSH_CONNECTION', '10.0.0.2 50000 10.0.0.3 22', 'SSH session'],
    ['SSH_TTY', '/dev/pts/1', 'SSH session'],
  ])('%s=%s makes it headless, and the verdict says so', (variable, value, what) => {
    const verdict = detectHeadless(undefined, desktop({ [variable]: value }));
    expect(verdict).toEqual({ headless: true, reason: `${what} (${variable} is set)`, signal: variable });
  });

  it('names CI before a hosting platform, and both before SSH', () => {
    expect(detectHeadless(undefined, desktop({ RENDER: 'true', CI: 'true', SSH_TTY: '/dev/pts/1' })).signal).toBe('CI');
    expect(detectHeadless(undefined, desktop({ SSH_TTY: '/dev/pts/1', DOCKER: 'true' })).signal).toBe('DOCKER');
  });

  it('reads CI=false, DOCKER=0 and empty values as unset', () => {
    for (const env of [{ CI: 'false' }, { DOCKER: '0' }, { RENDER: '' }, { GITHUB_ACTIONS: 'no' }] as Record<string, string>[]) {
      expect(detectHeadless(undefined, desktop(env)).headless).toBe(false);
    }
  });

  it('names the container file or the missing display that decided', () => {
    const docker = { ...desktop(), exists: (path: string) => path === '/.dockerenv' };
    expect(detectHeadless(undefined, docker)).toEqual({
      headless: true,
      signal: '/.dockerenv',
      reason: 'container (/.dockerenv exists)',
    });
    const podman = { ...desktop(), exists: (path: string) => path === '/run/.containerenv' };
    expect(detectHeadless(undefined, podman)).toEqual({
      headless: true,
      signal: '/run/.containerenv',
      reason: 'container (/run/.containerenv exists)',
    });
    const cgroup = { ...desktop(), readText: () => '0::/kubepods/besteffort/pod1\n' };
    expect(detectHeadless(undefined, cgroup)).toEqual({
      headless: true,
      signal: '/proc/1/cgroup',
      reason: 'container (/proc/1/cgroup)',
    });
    expect(detectHeadless(undefined, { ...desktop(), env: {} })).toEqual({
      headless: true,
      signal: 'DISPLAY',
      reason: 'no display (DISPLAY and WAYLAND_DISPLAY unset)',
    });
    expect(detectHeadless(undefined, { ...desktop(), env: { WAYLAND_DISPLAY: 'wayland-0' } }).headless).toBe(false);
    // No display means nothing on macOS and Windows.
    expect(detectHeadless(undefined, { ...desktop(), env: {}, platform: 'darwin' }).headless).toBe(false);
  });

  it('is not made headless by WSL alone (a WSL desktop has a display)', () => {
    expect(detectHeadless(undefined, desktop({ WSL_DISTRO_NAME: 'Ubuntu' })).headless).toBe(false);
  });

  it('lets an explicit setting win over every signal', () => {
    expect(detectHeadless(false, desktop({ CI: 'true', RENDER: 'true' }))).toMatchObject({ headless: false, signal: 'explicit' });
    expect(detectHeadless(true, desktop())).toEqual({
      headless: true,
      reason: 'set explicitly (headless: true)',
      signal: 'explicit',
    });
  });

  it('takes an Environment as well as a probe', () => {
    expect(detectHeadless(undefined, probeEnvironment(desktop({ TRAVIS: 'true' })))).toMatchObject({ signal: 'TRAVIS' });
    expect(detectHeadless(undefined)).toEqual(detectHeadless(undefined, currentEnvironment()));
  });
});

describe('isInteractive', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };

  it('needs both stdin and stderr to be terminals', () => {
    expect(isInteractive({ env: {}, stdin: tty, stderr: tty })).toBe(true);
    expect(isInteractive({ env: {}, stdin: pipe, stderr: tty })).toBe(false);
    expect(isInteractive({ env: {}, stdin: tty, stderr: {} })).toBe(false);
  });

  it('is never interactive in CI, even with terminals (runners may allocate a pseudo-terminal)', () => {
    for (const env of [
      { CI: 'true' },
      { CI: '1' },
      { GITHUB_ACTIONS: 'true' },
      { GITLAB_CI: 'true' },
      { JENKINS_URL: 'https://j/' },
    ]) {
      expect(isInteractive({ env, stdin: tty, stderr: tty })).toBe(false);
    }
    expect(isInteractive({ env: { CI: 'false' }, stdin: tty, stderr: tty })).toBe(true);
  });

  it('takes an Environment as well as a probe', () => {
    expect(isInteractive(probeEnvironment({ env: {}, stdin: tty, stderr: tty }))).toBe(true);
    expect(isInteractive(probeEnvironment({ env: { CI: 'true' }, stdin: tty, stderr: tty }))).toBe(false);
  });
});

describe('MeshClient in CI with terminals attached', () => {
  const saved = { stdin: process.stdin.isTTY, stderr: process.stderr.isTTY };
  afterEach(() => {
    process.stdin.isTTY = saved.stdin;
    process.stderr.isTTY = saved.stderr;
  });

  // Regression: interactivity was judged by the TTYs alone, so a CI job with a pseudo-terminal
  // started a login (and waited for a person) instead of failing with what to set.
  it('fails at once with reauthentication_required instead of starting a login', async () => {
    process.stdin.isTTY = true;
    process.stderr.isTTY = true;
    const loginsStarted: string[] = [];
    const client = new MeshClient({
      env: { CI: 'true' },
      tokenStore: 'memory',
      // Nothing listens here: a login attempt would fail with a network error, not the code below.
      apiUrl: 'http://127.0.0.1:9',
      auth0: { domain: 'http://127.0.0.1:9' },
      maxRetries: 0,
      loginUi: {
        onAuthUrl: (url) => loginsStarted.push(url),
        onVerification: (verification) => loginsStarted.push(verification.verificationUri),
      },
    });
    const error = await client.tokenSet().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe(ErrorCode.REAUTHENTICATION_REQUIRED);
    expect(loginsStarted).toEqual([]);
  });
});
