/**
 * Is a person with a browser here (headless), and can a person answer a login at all
 * (interactive)? Headless means: device login instead of a browser, and the file store instead of
 * the keychain. Not interactive means: a call that needs a login fails at once with what to run.
 * Both read the one probe of the environment (internal/environment.ts).
 */
import {
  currentEnvironment,
  type Environment,
  type EnvironmentVariables,
  isEnvironment,
  probeEnvironment,
} from './environment.js';

/** What `detectHeadless` decides: whether this environment is headless (device login, file store) and why. */
export interface HeadlessVerdict {
  headless: boolean;
  /** Why, for debug, status and doctor output, e.g. "GitHub Actions (GITHUB_ACTIONS is set)". */
  reason: string;
  /** The signal that decided: a variable (`GITHUB_ACTIONS`), a file (`/.dockerenv`) or `explicit`; none for a desktop. */
  signal?: string;
}

/** Where the variables come from; platform and files default to this process's. */
export interface HeadlessProbe {
  env: EnvironmentVariables;
  platform?: NodeJS.Platform;
  exists?: (path: string) => boolean;
  readText?: (path: string) => string | undefined;
}

/** What decides whether a person can answer a login: the environment and the two streams. */
export interface InteractiveProbe {
  env: EnvironmentVariables;
  stdin: { isTTY?: boolean };
  stderr: { isTTY?: boolean };
}

/** The CI variable that is set (`CI`, `GITHUB_ACTIONS`, ...), if any; `CI=false` is not CI. */
export function ciSignal(from: EnvironmentVariables | Environment = currentEnvironment()): string | undefined {
  return (isEnvironment(from) ? from : probeEnvironment({ env: from })).ci?.variable;
}

/**
 * Detects headless environments; an explicit `headless` (option or MESH_HEADLESS) wins. The
 * verdict names the signal that decided. Without a probe: this process's environment.
 *
 * @example
 * detectHeadless(undefined, { env: { GITHUB_ACTIONS: 'true' } });
 * // { headless: true, reason: 'GitHub Actions (GITHUB_ACTIONS is set)', signal: 'GITHUB_ACTIONS' }
 */
export function detectHeadless(
  explicit: boolean | undefined,
  from: HeadlessProbe | Environment = currentEnvironment(),
): HeadlessVerdict {
  if (explicit !== undefined) {
    return { headless: explicit, reason: `set explicitly (headless: ${explicit})`, signal: 'explicit' };
  }
  const environment = isEnvironment(from) ? from : probeEnvironment(from);
  const byVariable = environment.ci ?? environment.hosting;
  if (byVariable) {
    const { variable, name } = byVariable;
    return { headless: true, reason: `${name} (${variable} is set)`, signal: variable };
  }
  if (environment.ssh) {
    return { headless: true, reason: `SSH session (${environment.ssh} is set)`, signal: environment.ssh };
  }
  if (environment.container === '/proc/1/cgroup') {
    return { headless: true, reason: 'container (/proc/1/cgroup)', signal: '/proc/1/cgroup' };
  }
  if (environment.container) {
    return { headless: true, reason: `container (${environment.container} exists)`, signal: environment.container };
  }
  if (environment.display === undefined) {
    return { headless: true, reason: 'no display (DISPLAY and WAYLAND_DISPLAY unset)', signal: 'DISPLAY' };
  }
  return { headless: false, reason: 'desktop session' };
}

/**
 * Whether a person can answer a login here: stdin and stderr are terminals and no CI variable is
 * set. CI runners may allocate a pseudo-terminal, so the TTYs alone would leave a job waiting for a
 * login nobody will do. Without a probe: this process's environment.
 *
 * @example
 * isInteractive({ env: process.env, stdin: process.stdin, stderr: process.stderr });
 */
export function isInteractive(from: InteractiveProbe | Environment = currentEnvironment()): boolean {
  const environment = isEnvironment(from) ? from : probeEnvironment({ env: from.env, stdin: from.stdin, stderr: from.stderr });
  return environment.tty.stdin && environment.tty.stderr && environment.ci === undefined;
}
