// A user's script that chats with a stored login, run under Node.js, Bun or Deno from a consumer
// project. The store is the environment's (MESH_TOKEN_STORE: file, keychain, env or a Redis URL);
// the test planted an access token already expired, so the call refreshes first and the store
// keeps the new set. Last line: one JSON object of results (with when the first call started and
// the last ended, epoch ms, for the lock test's overlap), or of the error.
import { MeshClient } from 'mesh-sdk';

const say = (line) => process.stdout.write(`${line}\n`);
try {
  const client = new MeshClient({ interactive: false });
  const startedAt = Date.now();
  const reply = await client.chat('What is 5 + 7?');
  const again = await client.chat('What is 6 * 7?');
  say(JSON.stringify({ content: [reply.content, again.content], startedAt, endedAt: Date.now() }));
} catch (error) {
  say(JSON.stringify({ error: { name: error?.name, code: error?.code, message: String(error?.message), hint: error?.hint } }));
  process.exitCode = 1;
}
