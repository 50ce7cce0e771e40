/**
 * The fastest server we can write for the benchmarked route: plain `node:http`, fixed JSON bodies,
 * no auth checks, in its own process (so its work never shares the client's event loop). It
 * answers what `client.listKeys()` needs, in the deployed backend's shapes: `GET /auth/profile`
 * (`{"profile": {...}}`), `GET /api/v1/listKeys?userId=...` (`{"keys": [...]}`) and
 * `POST /v1/mesh/chat` (a fixed reply in the OpenAI shape), plus an `/auth/config` without capabilities. Prints `LEAN_URL=http://127.0.0.1:<port>` when listening.
 * Run: node bench/lean-server.ts (Node >= 22.6) or node --import tsx bench/lean-server.ts
 */
import { createServer } from 'node:http';

/** bench/lean.ts names the same user (this file imports nothing, so plain node runs it). */
const LEAN_USER_ID = 'lean-user';

const profile = Buffer.from(
  JSON.stringify({ profile: { id: LEAN_USER_ID, email: 'bench@example.test', name: 'Bench', credits: 100 } }),
);
const keys = Buffer.from(JSON.stringify({ keys: [`${LEAN_USER_ID}_openai`, `${LEAN_USER_ID}_anthropic`] }));
const config = Buffer.from(JSON.stringify({ domain: 'http://127.0.0.1', client_id: 'lean', audience: 'lean' }));
const chat = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-lean',
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the lean server.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
  }),
);
const notFound = Buffer.from(JSON.stringify({ error: 'Not found' }));

function bodyFor(url: string): Buffer | undefined {
  if (url.startsWith('/api/v1/listKeys?')) return keys;
  if (url === '/v1/mesh/chat') return chat;
  if (url === '/auth/profile') return profile;
  if (url.startsWith('/auth/config')) return config;
  return undefined;
}

const server = createServer((req, res) => {
  const body = bodyFor(req.url ?? '');
  // Drain whatever was sent so the connection stays reusable.
  req.resume();
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'content-length': (body ?? notFound).length });
  res.end(body ?? notFound);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`LEAN_URL=http://127.0.0.1:${address.port}\n`);
});
// Ends with its parent: SIGINT/SIGTERM, or stdin closing.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
