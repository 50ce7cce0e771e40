/**
 * A user's script for the proxy tests, run in its own process so that its environment is exactly
 * the one the test gives (HTTP(S)_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS, read at start-up): one
 * chat through a MeshClient built from that environment, then {"content"} or {"error"} as JSON.
 */
import { MeshClient } from '../../src/client/mesh-client.js';

const client = new MeshClient({ env: process.env, maxRetries: 0 });
try {
  const reply = await client.chat(process.argv[2] ?? 'hello');
  process.stdout.write(JSON.stringify({ content: reply.content }));
} catch (error) {
  const { name, message } = error as Error;
  process.stdout.write(JSON.stringify({ error: `${name}: ${message}` }));
} finally {
  await client.close();
}
