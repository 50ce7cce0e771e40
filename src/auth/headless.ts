/**
 * Is a person with a browser here? Headless means: device login instead of a browser, and the
 * file store instead of the keychain.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface HeadlessVerdict {
  headless: boolean;
  /** Why, for debug and status output, e.g. "SSH session (SSH_CONNECTION)". */
  reason: string;
}

export interface HeadlessProbe {
  env: Readonly<Record<string, string | undefined>>;
  platform?: NodeJS.Platform;
  exists?: (path: string) => boolean;
  readText?: (path: string) => string | undefined;
}

const isSet = (value: string | undefined) => value !== undefined && value !== '' && !/^(0|false|no)$/i.test(value);

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Detects headless environments; an explicit `headless` (option or MESH_HEADLESS) wins. */
export function detectHeadless(explicit: boolean | undefined, probe: HeadlessProbe): HeadlessVerdict {
  if (explicit !== undefined) return { headless: explicit, reason: `set explicitly (headless: ${explicit})` };
  const { env } = probe;
  const platform = probe.platform ?? process.platform;
  const exists = probe.exists ?? existsSync;
  const readText = probe.readText ?? readTextOrUndefined;
  if (isSet(env.CI)) return { headless: true, reason: 'CI (CI is set)' };
  if (env.SSH_CONNECTION || env.SSH_TTY) return { headless: true, reason: 'SSH session (SSH_CONNECTION/SSH_TTY)' };
  if (platform === 'linux') {
    if (exists('/.dockerenv') || exists('/run/.containerenv'))
      return { headless: true, reason: 'container (/.dockerenv or /run/.containerenv)' };
    if (/docker|kubepods|containerd|lxc|libpod/.test(readText('/proc/1/cgroup') ?? '')) {
      return { headless: true, reason: 'container (/proc/1/cgroup)' };
    }
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { headless: true, reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  }
  return { headless: false, reason: 'desktop session' };
}
