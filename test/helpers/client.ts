/** MeshClients on a running local stack, with tokens seeded in a temporary file store. */
import { rm } from 'node:fs/promises';
import { afterAll } from 'vitest';
import type { Stack } from '../../dev/stack.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshClientOptions } from '../../src/client/options.js';
import { scratchDir } from './scratch.js';
import { storedTokens } from './token-manager.js';

export interface TestClient {
  client: MeshClient;
  tokens: TokenSet;
  directory: string;
}

/** The token directories made here, removed after the test file that made them (thousands over a run otherwise). */
const directories: string[] = [];
afterAll(async () => {
  // Best effort: a client's background write may still be landing in its directory.
  const removals = directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true, maxRetries: 3 }));
  await Promise.allSettled(removals);
});

/** A client whose file store holds `tokens` (a fresh login when not given). */
export async function clientWithTokens(
  stack: Stack,
  options: MeshClientOptions & { tokens?: TokenSet; login?: string } = {},
): Promise<TestClient> {
  const { tokens: given, login, env, ...rest } = options;
  const tokens = given ?? (await storedTokens(stack, login));
  const directory = await scratchDir('mesh-client-');
  directories.push(directory);
  await new FileStore({ directory }).save(tokens);
  const client = new MeshClient({
    env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory, ...env },
    ...rest,
  });
  return { client, tokens, directory };
}
