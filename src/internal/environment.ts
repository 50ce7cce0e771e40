/**
 * Where this process runs, probed in one place: the platform, which streams are terminals, and
 * the signs that no person with a browser is at this machine (SSH, WSL, a container, CI, a hosting
 * platform, no display). The verdicts built on it (headless, interactive, remote session) live
 * with the code that needs them and only read this snapshot.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isatty } from 'node:tty';

export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** A stream as far as the probe cares: `process.stdin`, or `{ isTTY: true }` in a test. */
export interface TerminalLike {
  isTTY?: boolean;
}

/** Reads files (each at most once per reader: see {@link memoizedFiles}). */
export interface FileReader {
  exists(path: string): boolean;
  /** The file's text, or undefined where there is none or it cannot be read. */
  readText(path: string): string | undefined;
}

/** What a probe reads; anything left out comes from this process. */
export interface EnvironmentInputs {
  /** The variables the variable-based facts come from. @default process.env */
  env?: EnvironmentVariables;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** @default whether fd 0 is a terminal */
  stdin?: TerminalLike;
  /** @default whether fd 1 is a terminal */
  stdout?: TerminalLike;
  /** @default whether fd 2 is a terminal */
  stderr?: TerminalLike;
  /** @default the file system (read once per process) */
  exists?: (path: string) => boolean;
  /** @default the file system (read once per process) */
  readText?: (path: string) => string | undefined;
}

/** A variable that decided, and what it names ("GitHub Actions" for `GITHUB_ACTIONS`). */
export interface NamedSignal {
  readonly variable: string;
  readonly name: string;
}

export interface Environment {
  readonly platform: NodeJS.Platform;
  /** The variables the probe read that are set (none of them a secret): for debug and doctor output. */
  readonly env: EnvironmentVariables;
  readonly tty: { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };
  /** The SSH variable that is set. */
  readonly ssh: 'SSH_CONNECTION' | 'SSH_TTY' | undefined;
  /** How WSL showed itself: its variable, or a kernel that says "Microsoft" (the variable is lost under sudo or a service). */
  readonly wsl: 'WSL_DISTRO_NAME' | '/proc/version' | undefined;
  /** The file that shows a Linux container (Docker, Podman, Kubernetes, LXC). */
  readonly container: '/.dockerenv' | '/run/.containerenv' | '/proc/1/cgroup' | undefined;
  /** The CI variable that is set; `CI=false` (some tools write it) is not CI. */
  readonly ci: NamedSignal | undefined;
  /** The hosting platform's variable that is set (Render, Kubernetes, Lambda, Cloud Run, ...). */
  readonly hosting: NamedSignal | undefined;
  /** The display on Linux (its variable), `native` elsewhere (macOS and Windows always have one), undefined for none. */
  readonly display: 'DISPLAY' | 'WAYLAND_DISPLAY' | 'native' | undefined;
  /** NO_COLOR is set and not empty (no-color.org). */
  readonly noColor: boolean;
}

// The Python SDK's signals (token_manager.py 1.5.4 is_headless, auth.py 1.5.5), plus Cloud Run's
// K_SERVICE. Order matters only for which one a verdict names.
const CI_SIGNALS: readonly NamedSignal[] = [
  { variable: 'CI', name: 'CI' },
  { variable: 'GITHUB_ACTIONS', name: 'GitHub Actions' },
  { variable: 'GITLAB_CI', name: 'GitLab CI' },
  { variable: 'TRAVIS', name: 'Travis CI' },
  { variable: 'JENKINS_URL', name: 'Jenkins' },
];
const HOSTING_SIGNALS: readonly NamedSignal[] = [
  { variable: 'RENDER', name: 'Render' },
  { variable: 'KUBERNETES_SERVICE_HOST', name: 'Kubernetes' },
  { variable: 'AWS_LAMBDA_FUNCTION_NAME', name: 'AWS Lambda' },
  { variable: 'K_SERVICE', name: 'Cloud Run' },
  { variable: 'GOOGLE_CLOUD_PROJECT', name: 'Google Cloud' },
  { variable: 'DOCKER', name: 'Docker' },
];
const SSH_VARIABLES = ['SSH_CONNECTION', 'SSH_TTY'] as const;
const CONTAINER_FILES = ['/.dockerenv', '/run/.containerenv'] as const;
const CONTAINER_CGROUP = /docker|kubepods|containerd|lxc|libpod/;
/** Every variable and file the headless verdict looks at (docs/authentication.md lists each). */
export const HEADLESS_SIGNALS: readonly string[] = [
  ...CI_SIGNALS.map((signal) => signal.variable),
  ...HOSTING_SIGNALS.map((signal) => signal.variable),
  ...CONTAINER_FILES,
  '/proc/1/cgroup',
  ...SSH_VARIABLES,
  'DISPLAY',
  'WAYLAND_DISPLAY',
];
const READ_VARIABLES = [
  ...CI_SIGNALS.map((signal) => signal.variable),
  ...HOSTING_SIGNALS.map((signal) => signal.variable),
  ...SSH_VARIABLES,
  'WSL_DISTRO_NAME',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'NO_COLOR',
];

/** Set, and not an explicit "no": `CI=false` (some tools write it) does not mean CI. */
const isSet = (value: string | undefined) =>
  value !== undefined && value.trim() !== '' && !/^(0|false|no|n|off)$/i.test(value.trim());

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Wraps a reader so each path is asked once; a reader that throws counts as "no such file", as
 * the default one does (a locked-down sandbox may refuse /proc).
 */
export function memoizedFiles(exists: (path: string) => boolean, readText: (path: string) => string | undefined): FileReader {
  const existing = new Map<string, boolean>();
  const texts = new Map<string, string | undefined>();
  return {
    exists(path) {
      if (!existing.has(path)) {
        let found = false;
        try {
          found = exists(path);
        } catch {}
        existing.set(path, found);
      }
      return existing.get(path) as boolean;
    },
    readText(path) {
      if (!texts.has(path)) {
        let text: string | undefined;
        try {
          text = readText(path);
        } catch {}
        texts.set(path, text);
      }
      return texts.get(path);
    },
  };
}

function isTerminal(stream: TerminalLike | undefined, fd: number): boolean {
  // isatty(fd) rather than process.stdin: touching process.stdin creates the stream.
  return stream ? Boolean(stream.isTTY) : isatty(fd);
}

function build(env: EnvironmentVariables, platform: NodeJS.Platform, tty: Environment['tty'], files: FileReader): Environment {
  const read: Record<string, string> = {};
  for (const variable of READ_VARIABLES) {
    const value = env[variable];
    if (value !== undefined) read[variable] = value;
  }
  const linux = platform === 'linux';
  const ssh = SSH_VARIABLES.find((variable) => isSet(env[variable]));
  // WSL reports itself in /proc/version whatever platform Node was told; elsewhere the file is absent.
  const wsl = env.WSL_DISTRO_NAME
    ? 'WSL_DISTRO_NAME'
    : /microsoft/i.test(files.readText('/proc/version') ?? '')
      ? '/proc/version'
      : undefined;
  // Container markers are Linux's; a stray /.dockerenv on a Mac means nothing.
  const container = !linux
    ? undefined
    : (CONTAINER_FILES.find((path) => files.exists(path)) ??
      (CONTAINER_CGROUP.test(files.readText('/proc/1/cgroup') ?? '') ? '/proc/1/cgroup' : undefined));
  const display = !linux ? 'native' : env.DISPLAY ? 'DISPLAY' : env.WAYLAND_DISPLAY ? 'WAYLAND_DISPLAY' : undefined;
  return Object.freeze({
    platform,
    env: Object.freeze(read),
    tty: Object.freeze({ ...tty }),
    ssh,
    wsl,
    container,
    ci: CI_SIGNALS.find((signal) => isSet(env[signal.variable])),
    hosting: HOSTING_SIGNALS.find((signal) => isSet(env[signal.variable])),
    display,
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
  });
}

/** Probes environments with shared defaults; the process has one of these (below). */
export interface EnvironmentSource {
  /** The environment from `defaults`, probed on first use and then kept. */
  current(): Environment;
  /** A fresh probe: the given inputs, the rest from `defaults`; the default files are read once for all probes. */
  probe(overrides?: EnvironmentInputs): Environment;
  /** The default files, memoized: what `current()` and `probe()` read. */
  readonly files: FileReader;
}

export function createEnvironmentSource(defaults: EnvironmentInputs = {}): EnvironmentSource {
  const files = memoizedFiles(defaults.exists ?? existsSync, defaults.readText ?? readTextFile);
  let current: Environment | undefined;
  const probe = (overrides: EnvironmentInputs = {}): Environment =>
    build(
      overrides.env ?? defaults.env ?? process.env,
      overrides.platform ?? defaults.platform ?? process.platform,
      {
        stdin: isTerminal(overrides.stdin ?? defaults.stdin, 0),
        stdout: isTerminal(overrides.stdout ?? defaults.stdout, 1),
        stderr: isTerminal(overrides.stderr ?? defaults.stderr, 2),
      },
      overrides.exists || overrides.readText
        ? memoizedFiles(overrides.exists ?? files.exists, overrides.readText ?? files.readText)
        : files,
    );
  return {
    files,
    probe,
    current: () => {
      current ??= probe();
      return current;
    },
  };
}

// The one module-level instance the style allows for: nothing is read until first asked, and a
// process's files, terminals and variables are what they are for its whole life.
const processSource = createEnvironmentSource();

/**
 * This process's environment, probed on first call and then the same object.
 *
 * @example
 * if (currentEnvironment().ci) console.error(`in ${currentEnvironment().ci.name}`);
 */
export function currentEnvironment(): Environment {
  return processSource.current();
}

/**
 * An environment from explicit inputs (a client's `env` option, a test's files and terminals);
 * what is not given comes from this process, its files read once per process.
 *
 * @example
 * probeEnvironment({ env: { GITHUB_ACTIONS: 'true' } }).ci; // { variable: 'GITHUB_ACTIONS', name: 'GitHub Actions' }
 */
export function probeEnvironment(overrides?: EnvironmentInputs): Environment {
  return processSource.probe(overrides);
}

/** This process's files, each read at most once (for a caller that injects one file and keeps the rest). */
export const processFiles: FileReader = processSource.files;

/** An Environment, as opposed to a variables record or probe inputs (whose values are never objects). */
export function isEnvironment(value: object): value is Environment {
  const tty = (value as { tty?: unknown }).tty;
  return typeof tty === 'object' && tty !== null;
}

/** The variables that send HTTP through a proxy (undici's EnvHttpProxyAgent reads them, as curl does). */
export const PROXY_VARIABLES: readonly string[] = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** The first proxy variable set in `env` to something that is not a URL (undici would refuse it), if any. */
export function malformedProxyVariable(env: EnvironmentVariables = process.env): string | undefined {
  return PROXY_VARIABLES.find((name) => env[name] && !URL.canParse(env[name] as string));
}

/** Whether a proxy variable is set in `env`. */
export function proxyConfigured(env: EnvironmentVariables = process.env): boolean {
  return PROXY_VARIABLES.some((name) => env[name]);
}
