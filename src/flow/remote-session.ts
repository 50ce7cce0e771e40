/**
 * Is the login running where opening "the" browser would be wrong? Over SSH the browser would
 * open on the remote machine (or nowhere); under WSL a Linux browser may be absent and the
 * Windows one is not ours to open blindly. Either way the URL is shown for the user to open.
 * The facts come from the one probe of the environment (internal/environment.ts).
 */
import {
  currentEnvironment,
  type Environment,
  type EnvironmentVariables,
  isEnvironment,
  probeEnvironment,
  processFiles,
} from '../internal/environment.js';

const PROC_VERSION = '/proc/version';

/** The text of `/proc/version` (read once per process), or undefined where there is none (not Linux, a locked-down sandbox). */
export function readProcVersion(): string | undefined {
  return processFiles.readText(PROC_VERSION);
}

/**
 * Names the remote session or WSL ("an SSH session", "WSL"), or undefined on a plain desktop.
 * WSL 1 and 2 kernels say "Microsoft" in `/proc/version` even when `WSL_DISTRO_NAME` is not
 * passed on (sudo, a service, a scrubbed environment). Given variables, SSH and WSL are read from
 * them, and `/proc/version` through `procVersion` (default: the file); given nothing, this
 * process's environment.
 */
export function remoteOrWsl(
  from: EnvironmentVariables | Environment = currentEnvironment(),
  procVersion?: () => string | undefined,
): string | undefined {
  const environment = isEnvironment(from)
    ? from
    : probeEnvironment({
        env: from,
        ...(procVersion && { readText: (path: string) => (path === PROC_VERSION ? procVersion() : processFiles.readText(path)) }),
      });
  if (environment.ssh) return 'an SSH session';
  return environment.wsl ? 'WSL' : undefined;
}
