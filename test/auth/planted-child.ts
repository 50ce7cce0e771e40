/**
 * A user's script, run from the working directory the test chooses (a cloned repository that may
 * carry someone else's `.mesh_token.json`). argv[2]:
 * - `store-key`: `storeKey('openai', PLANTED_KEY_VALUE)`, logged in or not, nobody to log in;
 * - `login`: a call that needs a login, with a person to answer the device code (the test's
 *   stand-in approves it over HTTP as PLANTED_LOGIN).
 * Prints one JSON line: `{ ok, code?, store? }`. PLANTED_SDK: the SDK's source folder.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';

const sdk = resolve(process.env.PLANTED_SDK ?? resolve(import.meta.dirname, '../../src'));
const { MeshClient } = (await import(
  pathToFileURL(`${sdk}/client/mesh-client.ts`).href
)) as typeof import('../../src/client/mesh-client.js');

const mode = process.argv[2];
const client =
  mode === 'login'
    ? new MeshClient({
        interactive: true,
        loginUi: {
          onVerification: (verification) =>
            void approveDeviceOverHttp(verification.verificationUriComplete ?? verification.verificationUri, {
              login: process.env.PLANTED_LOGIN,
            }),
          onHeadlessTokens: () => {},
        },
      })
    : new MeshClient({ interactive: false });
try {
  if (mode === 'login') await client.listKeys();
  else await client.storeKey('openai', process.env.PLANTED_KEY_VALUE as string);
  process.stdout.write(`${JSON.stringify({ ok: true, store: (await client.authStatus()).store })}\n`);
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, code: (error as { code?: string }).code, message: (error as Error).message })}\n`,
  );
}
await client.close();
