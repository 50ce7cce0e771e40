// The calls bench/runtimes.bench.ts times, the same code on every runtime: a user's client made
// with an API key, as a Worker gets its secrets (`env`), pointed at the local stack. `env` is
// process.env under Node.js, Bun and Deno, the Worker's bindings under workerd.
import { MeshClient } from 'mesh-sdk';

function clientFor(env) {
  return new MeshClient({ apiKey: env.MESH_API_KEY, env: { MESH_API_URL: env.MESH_API_URL } });
}

async function listKeys(client) {
  const keys = await client.listKeys();
  if (!Array.isArray(keys)) throw new Error(`listKeys() answered ${JSON.stringify(keys)}`);
}

/** One call of a new client: `listKeys` or `chat`. */
export async function firstCall(env, call) {
  const client = clientFor(env);
  if (call === 'chat') {
    const reply = await client.chat('What is 5 + 7?');
    if (typeof reply.content !== 'string') throw new Error(`chat() answered ${JSON.stringify(reply)}`);
  } else {
    await listKeys(client);
  }
}

/** `calls` listKeys() with `concurrency` in flight; resolves when all are answered. */
async function inFlight(client, calls, concurrency) {
  let started = 0;
  const lane = async () => {
    while (started < calls) {
      started++;
      await listKeys(client);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function elapsedMs(work) {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * `warmup` calls (16 in flight, untimed), then `calls` one after another (c=1) and `calls` with 16
 * in flight (c=16), timed with performance.now(): answers each figure's elapsed ms.
 */
export async function warmCalls(env, calls, warmup) {
  const client = clientFor(env);
  await inFlight(client, warmup, 16);
  const c1 = await elapsedMs(() => inFlight(client, calls, 1));
  const c16 = await elapsedMs(() => inFlight(client, calls, 16));
  return { calls, c1, c16 };
}
