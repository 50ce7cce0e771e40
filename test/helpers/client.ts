/** MeshClients on a running local stack, with tokens seeded in a temporary file store. */
import type { Stack } from '../../dev/stack.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/client/options.js';
import { closeBeforeRemoval, scratchDir } from './scratch.js';
import { storedTokens } from './token-manager.js';

export interface TestClient {
  client: MeshClient;
  tokens: TokenSet;
  directory: string;
}

/** A client whose file store holds `tokens` (a fresh login when not given). */
export async function clientWithTokens(
  stack: Stack,
  options: MeshClientOptions & { tokens?: TokenSet; login?: string } = {},
): Promise<TestClient> {
  const { tokens: given, login, env, ...rest } = options;
  const tokens = given ?? (await storedTokens(stack, login));
  // Removed after the test file that made it (thousands over a run otherwise).
  const directory = await scratchDir('mesh-client-');
  await new FileStore({ directory }).save(tokens);
  const client = new MeshClient({
    env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory, ...env },
    ...rest,
  });
  // Its last writes (the user id kept with the tokens) land before the directory is removed.
  closeBeforeRemoval(() => client.close());
  return { client, tokens, directory };
}
