/**
 * Is the login running where opening "the" browser would be wrong? Over SSH the browser would
 * open on the remote machine (or nowhere); under WSL a Linux browser may be absent and the
 * Windows one is not ours to open blindly. Either way the URL is shown for the user to open.
 */
import { readFileSync } from 'node:fs';

/** The text of `/proc/version`, or undefined where there is none (not Linux, a locked-down sandbox). */
export function readProcVersion(): string | undefined {
  try {
    return readFileSync('/proc/version', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Names the remote session or WSL ("an SSH session", "WSL"), or undefined on a plain desktop.
 * `procVersion` reads `/proc/version`: WSL 1 and 2 kernels say "Microsoft" there even when
 * `WSL_DISTRO_NAME` is not passed on (sudo, a service, a scrubbed environment).
 */
export function remoteOrWsl(
  env: Readonly<Record<string, string | undefined>>,
  procVersion: () => string | undefined = readProcVersion,
): string | undefined {
  if (env.SSH_CONNECTION || env.SSH_TTY) return 'an SSH session';
  if (env.WSL_DISTRO_NAME) return 'WSL';
  let version: string | undefined;
  try {
    version = procVersion();
  } catch {
    // An injected reader that throws is "no /proc/version", as the default one is.
  }
  return version && /microsoft/i.test(version) ? 'WSL' : undefined;
}
