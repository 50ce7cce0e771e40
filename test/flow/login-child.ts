/**
 * A process that runs the browser login with the default UI (no `onAuthUrl`: lines on stderr),
 * so that auth-url.test.ts reads what a user would see. argv[2]: the browser opener, `ok` (says
 * `OPENED <url>` on stdout), `fail` (throws, as a missing xdg-open does) or `system` (the default
 * opener: the `open` package and xdg-open, with $BROWSER from recording-opener.ts). The environment the
 * flow sees is this process's: the stack's variables, AUTH0_CALLBACK_PORT, SSH and WSL variables as the
 * case sets them; MESH_CHILD_PROC_VERSION stands in for /proc/version. Ends with `LOGGED_IN` or
 * `FAILED <name> <code>` on stdout, and at exit `WAITED_FOR <ms,...>`: the timers of a second or
 * more that kept the process waiting after the login ended ("none" when there were none).
 */

import { createHook } from 'node:async_hooks';
import { flowFor } from './flow-for.js';

// Which long timers ran their callback after the login ended: one the SDK forgot to clear (the
// listener's 2 s grace once the page is served, or its 30 s bound) is seen here, however loaded
// the machine is. Only referenced timers count: an unref'd one never keeps a script open.
type TimerResource = { _idleTimeout?: number; hasRef?: () => boolean };
const timers = new Map<number, TimerResource>();
const waitedFor: number[] = [];
let loginEnded = false;
createHook({
  init(id, type, _trigger, resource) {
    if (type === 'Timeout') timers.set(id, resource as TimerResource);
  },
  before(id) {
    const timer = timers.get(id);
    if (loginEnded && timer?.hasRef?.() && (timer._idleTimeout ?? 0) >= 1000) waitedFor.push(timer._idleTimeout as number);
  },
  destroy(id) {
    timers.delete(id);
  },
}).enable();
process.on('exit', () => process.stdout.write(`WAITED_FOR ${waitedFor.join(',') || 'none'}\n`));

const mode = process.argv[2];
const { flow, close } = flowFor(
  {
    env: process.env,
    callbackPort: Number(process.env.AUTH0_CALLBACK_PORT),
    procVersion: process.env.MESH_CHILD_PROC_VERSION,
  },
  mode === 'system'
    ? {}
    : {
        openBrowser: async (url) => {
          if (mode === 'fail') throw new Error('xdg-open: no method available');
          process.stdout.write(`OPENED ${url}\n`);
        },
      },
);
try {
  const { tokens } = await flow.login({ timeoutMs: 20_000 });
  process.stdout.write(tokens.access_token ? 'LOGGED_IN\n' : 'NO_TOKEN\n');
} catch (error) {
  process.stdout.write(`FAILED ${(error as Error).name} ${(error as { code?: string }).code}\n`);
  process.exitCode = 1;
} finally {
  loginEnded = true;
  await close();
}
