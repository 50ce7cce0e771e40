/**
 * An AuthFlow wired as MeshClient wires it, against a running stack, with the environment the
 * flow sees (env + /proc/version) given explicitly: the SSH/WSL decision then never depends on
 * where the tests run.
 */
import { BackendAuth } from '../../src/auth/backend/backend-auth.js';
import { SkewClock } from '../../src/auth/tokens/clock.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { AuthFlow, type AuthFlowCallbacks } from '../../src/flow/auth-flow.js';
import { HttpClient } from '../../src/http/http-client.js';

/** A desktop Linux kernel's /proc/version (not WSL). */
export const PLAIN_LINUX =
  'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP';
/** WSL 2's /proc/version. */
export const WSL2_LINUX =
  'Linux version 5.15.167.4-microsoft-standard-WSL2 (root@f9c826d3017f) (gcc (GCC) 11.2.0, GNU ld (GNU Binutils) 2.37) #1 SMP';

export interface FlowEnvironment {
  /** The stack's variables (MESH_API_URL, AUTH0_*) plus whatever the case sets (SSH_TTY, ...). */
  env: Record<string, string | undefined>;
  callbackPort: number;
  /** What /proc/version says. @default PLAIN_LINUX */
  procVersion?: string;
}

export function flowFor(where: FlowEnvironment, callbacks: AuthFlowCallbacks): { flow: AuthFlow; close: () => Promise<void> } {
  const config = resolveConfig({ env: where.env, callbackPort: where.callbackPort });
  const clock = new SkewClock();
  const http = new HttpClient({ baseUrl: config.apiUrl, timeout: 10_000 });
  const flow = new AuthFlow({
    config,
    backendAuth: new BackendAuth({ http, clock }),
    dispatcher: () => http.dispatcher(),
    clock,
    headless: { headless: false, reason: 'a desktop (test)' },
    env: where.env,
    procVersion: () => where.procVersion ?? PLAIN_LINUX,
    ...callbacks,
  });
  return { flow, close: () => http.close() };
}
