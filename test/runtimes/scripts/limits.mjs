// What cannot work in an edge Worker, as a user there would try it: each must be a typed
// UnsupportedRuntimeError (code unsupported_runtime) naming the runtime and what to use instead,
// never a stack trace from inside a dependency. On Node.js, Bun and Deno, these work.
import { FileStore, KeychainStore, MemoryStore, MeshClient, redisTokenStore } from 'mesh-sdk';

/** The error an attempt throws, as plain data (or 'no error'). */
async function failure(attempt) {
  try {
    await attempt();
    return 'no error';
  } catch (error) {
    return { name: error.name, code: error.code, message: error.message, hint: error.hint };
  }
}

export async function run(env) {
  const settings = { MESH_API_URL: env.MESH_API_URL };
  return {
    // No credential at all: the default stores (keychain, ~/.mesh/token.json) are the problem.
    defaultClient: await failure(() => new MeshClient({ env: settings })),
    fileStore: await failure(() => new FileStore()),
    keychainStore: await failure(() => new KeychainStore({ account: 'me' })),
    redisStore: await failure(() => redisTokenStore({ url: 'redis://127.0.0.1:6379' })),
    login: await failure(() => new MeshClient({ tokenStore: new MemoryStore(), env: settings }).login()),
    // Refused before the request: nothing is generated (or paid for) that could not be saved.
    saveTo: await failure(() =>
      new MeshClient({ apiKey: env.MESH_API_KEY, env: settings }).generateImage('A lighthouse', { saveTo: 'lighthouse.png' }),
    ),
  };
}
