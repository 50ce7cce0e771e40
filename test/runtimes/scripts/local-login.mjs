// A user's login script, run under Node.js, Bun or Deno from a consumer project: logs in (argv[2]:
// `browser`, through the SDK's loopback callback server and the default browser opener, or
// `device`), then chats with the stored login. The device login's URL goes to stdout as
// `VERIFY <url>` for the test's Chromium. Last line: one JSON object of results, or of the error
// ({ error: { name, code, message } }).
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from 'mesh-sdk';

const mode = process.argv[2];
const say = (line) => process.stdout.write(`${line}\n`);
let browserOpened = null;
try {
  // The callback port comes from AUTH0_CALLBACK_PORT, as the SDK reads it.
  const client = new MeshClient({
    tokenStore: 'file',
    headless: mode === 'device',
    interactive: false,
    loginUi: {
      onAuthUrl: (_url, opened) => {
        browserOpened = opened;
      },
      onVerification: (verification) => say(`VERIFY ${verification.verificationUriComplete}`),
      onHeadlessTokens: () => {},
    },
  });
  const profile = await client.login({ timeoutMs: 30_000 });
  const file = join(homedir(), '.mesh', 'token.json');
  const stored = JSON.parse(await readFile(file, 'utf8'));
  const reply = await client.chat('What is 5 + 7?');
  say(
    JSON.stringify({
      email: profile.email,
      browserOpened,
      content: reply.content,
      mode: ((await stat(file)).mode & 0o777).toString(8),
      authSource: stored.auth_source ?? null,
      hasRefreshToken: typeof stored.refresh_token === 'string',
    }),
  );
} catch (error) {
  say(JSON.stringify({ error: { name: error?.name, code: error?.code, message: String(error?.message), hint: error?.hint } }));
  process.exitCode = 1;
}
