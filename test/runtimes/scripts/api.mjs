// A user's script: the token-based API, the same under Node.js, Bun, Deno and an edge Worker
// (workerd). `run(env)` gets the environment (process.env, or the Worker's `env`) and answers what
// it saw; the test compares the answers of every runtime with Node's.
import { MeshClient } from 'mesh-sdk';

/** The settings that point the SDK at the local stack, passed as the `env` option (a Worker's way). */
function stackSettings(env) {
  const names = ['MESH_API_URL', 'AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_AUDIENCE'];
  return Object.fromEntries(names.map((name) => [name, env[name]]));
}

export async function run(env) {
  const settings = stackSettings(env);
  const seen = {};

  // An API key, as a Worker gets a secret: chat, a stream, the key routes, an image.
  const client = new MeshClient({ apiKey: env.MESH_API_KEY, env: settings });
  seen.chat = (await client.chat('What is 5 + 7?')).content;
  let streamed = '';
  for await (const delta of client.chatStream('Count to three')) streamed += delta;
  seen.stream = streamed;
  await client.storeKey('runtime_key', `value-for-${env.RUNTIME_NAME}`);
  seen.key = await client.getKey('runtime_key');
  seen.keys = (await client.listKeys()).includes('runtime_key');
  const [image] = await client.generateImage('A lighthouse at dawn', { responseFormat: 'b64_json' });
  seen.image = { mediaType: image.mediaType, bytes: image.b64Json.length > 100 };

  // Tokens from the environment: only a refresh token, so the first call refreshes.
  const byTokens = new MeshClient({
    env: { ...settings, MESH_TOKEN_FROM_ENV: 'true', MESH_REFRESH_TOKEN: env.MESH_REFRESH_TOKEN },
  });
  seen.tokens = (await byTokens.chat('What is 5 + 7?')).content;
  seen.tokensStatus = (await byTokens.authStatus()).credential;

  // A token provider of the user's own.
  const byProvider = new MeshClient({ tokenProvider: { getAccessToken: async () => env.MESH_ACCESS_TOKEN }, env: settings });
  seen.provider = (await byProvider.chat('What is 5 + 7?')).content;
  return seen;
}
