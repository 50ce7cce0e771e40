/**
 * Is a person with a browser here (headless), and can a person answer a login at all
 * (interactive)? Headless means: device login instead of a browser, and the file store instead of
 * the keychain. Not interactive means: a call that needs a login fails at once with what to run.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface HeadlessVerdict {
  headless: boolean;
  /** Why, for debug, status and doctor output, e.g. "GitHub Actions (GITHUB_ACTIONS is set)". */
  reason: string;
  /** The signal that decided: a variable (`GITHUB_ACTIONS`), a file (`/.dockerenv`) or `explicit`; none for a desktop. */
  signal?: string;
}

export interface HeadlessProbe {
  env: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  exists?: (path: string) => boolean;
  readText?: (path: string) => string | undefined;
}

/** What decides whether a person can answer a login: the environment and the two streams. */
export interface InteractiveProbe {
  env: Readonly<Record<string, string | undefined>>;
  stdin: { isTTY?: boolean };
  stderr: { isTTY?: boolean };
}

// The Python SDK's signals (token_manager.py 1.5.4 is_headless, auth.py 1.5.5), plus Cloud Run's
// K_SERVICE. Order matters only for which one the verdict names.
const CI_SIGNALS: ReadonlyArray<readonly [variable: string, what: string]> = [
  ['CI', 'CI'],
  ['GITHUB_ACTIONS', 'GitHub Actions'],
  ['GITLAB_CI', 'GitLab CI'],
  ['TRAVIS', 'Travis CI'],
  ['JENKINS_URL', 'Jenkins'],
];
const PLATFORM_SIGNALS: ReadonlyArray<readonly [variable: string, what: string]> = [
  ['RENDER', 'Render'],
  ['KUBERNETES_SERVICE_HOST', 'Kubernetes'],
  ['AWS_LAMBDA_FUNCTION_NAME', 'AWS Lambda'],
  ['K_SERVICE', 'Cloud Run'],
  ['GOOGLE_CLOUD_PROJECT', 'Google Cloud'],
  ['DOCKER', 'Docker'],
];

/** Set, and not an explicit "no": `CI=false` (some tools write it) does not mean CI. */
const isSet = (value: string | undefined) =>
  value !== undefined && value.trim() !== '' && !/^(0|false|no|n|off)$/i.test(value.trim());

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function firstSet(
  env: HeadlessProbe['env'],
  signals: ReadonlyArray<readonly [string, string]>,
): readonly [string, string] | undefined {
  return signals.find(([variable]) => isSet(env[variable]));
}

/** The CI variable that is set (`CI`, `GITHUB_ACTIONS`, ...), if any. */
export function ciSignal(env: HeadlessProbe['env']): string | undefined {
  return firstSet(env, CI_SIGNALS)?.[0];
}

/**
 * Detects headless environments; an explicit `headless` (option or MESH_HEADLESS) wins. The
 * verdict names the signal that decided.
 *
 * @example
 * detectHeadless(undefined, { env: { GITHUB_ACTIONS: 'true' } });
 * // { headless: true, reason: 'GitHub Actions (GITHUB_ACTIONS is set)', signal: 'GITHUB_ACTIONS' }
 */
export function detectHeadless(explicit: boolean | undefined, probe: HeadlessProbe): HeadlessVerdict {
  if (explicit !== undefined) {
    return { headless: explicit, reason: `set explicitly (headless: ${explicit})`, signal: 'explicit' };
  }
  const { env } = probe;
  const platform = probe.platform ?? process.platform;
  const exists = probe.exists ?? existsSync;
  const readText = probe.readText ?? readTextOrUndefined;
  const byVariable = firstSet(env, CI_SIGNALS) ?? firstSet(env, PLATFORM_SIGNALS);
  if (byVariable) {
    const [variable, what] = byVariable;
    return { headless: true, reason: `${what} (${variable} is set)`, signal: variable };
  }
  for (const variable of ['SSH_CONNECTION', 'SSH_TTY']) {
    if (isSet(env[variable])) return { headless: true, reason: `SSH session (${variable} is set)`, signal: variable };
  }
  if (platform === 'linux') {
    for (const path of ['/.dockerenv', '/run/.containerenv']) {
      if (exists(path)) return { headless: true, reason: `container (${path} exists)`, signal: path };
    }
    if (/docker|kubepods|containerd|lxc|libpod/.test(readText('/proc/1/cgroup') ?? '')) {
      return { headless: true, reason: 'container (/proc/1/cgroup)', signal: '/proc/1/cgroup' };
    }
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) {
      return { headless: true, reason: 'no display (DISPLAY and WAYLAND_DISPLAY unset)', signal: 'DISPLAY' };
    }
  }
  return { headless: false, reason: 'desktop session' };
}

/**
 * Whether a person can answer a login here: stdin and stderr are terminals and no CI variable is
 * set. CI runners may allocate a pseudo-terminal, so the TTYs alone would leave a job waiting for a
 * login nobody will do.
 *
 * @example
 * isInteractive({ env: process.env, stdin: process.stdin, stderr: process.stderr });
 */
export function isInteractive(probe: InteractiveProbe): boolean {
  return Boolean(probe.stdin.isTTY && probe.stderr.isTTY) && ciSignal(probe.env) === undefined;
}
