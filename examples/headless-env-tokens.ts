// A headless server with tokens from the environment (MESH_TOKEN_FROM_ENV=true, MESH_ACCESS_TOKEN,
// MESH_REFRESH_TOKEN, MESH_TOKEN_EXPIRES_AT from `npx mesh-auth print-tokens`). A refreshed set lives
// in memory; onTokensRefreshed is where you would push it to your secrets manager.
import { EnvStore, MeshClient } from 'mesh-sdk';

const client = new MeshClient({
  tokenStore: new EnvStore({
    onTokensRefreshed: (tokens) =>
      console.log(`tokens refreshed; they expire at ${new Date(tokens.expires_at * 1000).toISOString()}`),
  }),
});
console.log('store:', client.describeTokenStore());
console.log((await client.chat('What is 6 * 7?')).content);
