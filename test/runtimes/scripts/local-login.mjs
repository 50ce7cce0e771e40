// A user's login script, run under Node.js, Bun or Deno from a consumer project: logs in (argv[2]:
// `browser`, through the SDK's loopback callback server, or `device`), then chats with the stored
// login. The login URL goes to stdout as `OPEN <url>` / `VERIFY <url>` for the test's Chromium.
// Last line: one JSON object of results, or of the error ({ error: { name, code, message } }).
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MeshClient } from 'mesh-sdk';

const mode = process.argv[2];
const say = (line) => process.stdout.write(`${line}\n`);
try {
  // The callback port comes from AUTH0_CALLBACK_PORT, as the SDK reads it.
  const client = new MeshClient({
    tokenStore: 'file',
    headless: mode === 'device',
    interactive: false,
    loginUi: {
      openBrowser: async (url) => say(`OPEN ${url}`),
      onAuthUrl: () => {},
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
      content: reply.content,
      mode: ((await stat(file)).mode & 0o777).toString(8),
      authSource: stored.auth_source ?? null,
      hasRefreshToken: typeof stored.refresh_token === 'string',
    }),
  );
} catch (error) {
  say(JSON.stringify({ error: { name: error?.name, code: error?.code, message: String(error?.message) } }));
  process.exitCode = 1;
}
