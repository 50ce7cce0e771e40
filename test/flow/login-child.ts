/**
 * A process that runs the browser login with the default UI (no `onAuthUrl`: lines on stderr),
 * so that auth-url.test.ts reads what a user would see. argv[2]: the browser opener, `ok` (says
 * `OPENED <url>` on stdout), `fail` (throws, as a missing xdg-open does) or `system` (the default
 * opener: the `open` package and xdg-open, with $BROWSER from recording-opener.ts). The environment the
 * flow sees is this process's: the stack's variables, AUTH0_CALLBACK_PORT, SSH and WSL variables as the
 * case sets them; MESH_CHILD_PROC_VERSION stands in for /proc/version. Ends with `LOGGED_IN` or
 * `FAILED <name> <code>` on stdout.
 */

import { flowFor } from './flow-for.js';

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
  await close();
}
