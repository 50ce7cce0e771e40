// A service verifying Mesh credentials with mesh-sdk/server, the same under Node.js, Bun, Deno
// and an edge Worker: an access token against the issuer's keys, an API key through the backend,
// and a forged token refused with a 401.
import { createVerifier } from 'mesh-sdk/server';

export async function run(env) {
  const settings = Object.fromEntries(
    ['MESH_API_URL', 'AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'AUTH0_AUDIENCE'].map((name) => [name, env[name]]),
  );
  const verifier = createVerifier({ acceptApiKeys: true, env: settings });
  const byToken = await verifier.verify(`Bearer ${env.MESH_ACCESS_TOKEN}`);
  const byKey = await verifier.verify(new Request('https://service.example/me', { headers: { 'x-api-key': env.MESH_API_KEY } }));
  const [header, payload] = env.MESH_ACCESS_TOKEN.split('.');
  const forged = await verifier.verify(`${header}.${payload}.${'A'.repeat(86)}`).then(
    () => 'accepted',
    (error) => ({ name: error.name, status: error.status }),
  );
  return {
    token: { kind: byToken.kind, subject: byToken.subject },
    apiKey: { kind: byKey.kind, subject: byKey.subject },
    forged,
  };
}
