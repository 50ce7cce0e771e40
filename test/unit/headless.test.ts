// Headless detection and interactivity: the Python SDK's signals (token_manager.py 1.5.4, auth.py
// 1.5.5) each decide, the verdict names the one that did, and CI is never interactive.
import { afterEach, describe, expect, it } from 'vitest';
import { detectHeadless, type HeadlessProbe, isInteractive } from '../../src/auth/headless.js';
import { ErrorCode, MeshClient, MeshError } from '../../src/index.js';

/** A Linux desktop with a display and no container files, plus `env`. */
const desktop = (env: Record<string, string> = {}): HeadlessProbe => ({
  env: { DISPLAY: ':0', ...env },
  platform: 'linux',
  exists: () => false,
  readText: () => '0::/user.slice/user-1000.slice/session-2.scope\n',
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

  it('reads CI=false, DOCKER=0 and empty values as unset', () => {
    for (const env of [{ CI: 'false' }, { DOCKER: '0' }, { RENDER: '' }, { GITHUB_ACTIONS: 'no' }] as Record<string, string>[]) {
      expect(detectHeadless(undefined, desktop(env)).headless).toBe(false);
    }
  });

  it('names the container file or the missing display that decided', () => {
    const docker = { ...desktop(), exists: (path: string) => path === '/.dockerenv' };
    expect(detectHeadless(undefined, docker)).toMatchObject({
      headless: true,
      signal: '/.dockerenv',
      reason: 'container (/.dockerenv exists)',
    });
    const cgroup = { ...desktop(), readText: () => '0::/kubepods/besteffort/pod1\n' };
    expect(detectHeadless(undefined, cgroup)).toMatchObject({ headless: true, signal: '/proc/1/cgroup' });
    expect(detectHeadless(undefined, { ...desktop(), env: {} })).toMatchObject({ headless: true, signal: 'DISPLAY' });
    expect(detectHeadless(undefined, { ...desktop(), env: { WAYLAND_DISPLAY: 'wayland-0' } }).headless).toBe(false);
    // No display means nothing on macOS and Windows.
    expect(detectHeadless(undefined, { ...desktop(), env: {}, platform: 'darwin' }).headless).toBe(false);
  });

  it('lets an explicit setting win over every signal', () => {
    expect(detectHeadless(false, desktop({ CI: 'true', RENDER: 'true' }))).toMatchObject({ headless: false, signal: 'explicit' });
    expect(detectHeadless(true, desktop())).toMatchObject({ headless: true, signal: 'explicit' });
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
