/**
 * A Mesh API key for a test, minted on the reference backend as the deployed one mints it:
 * `POST /v1/mesh/api-keys` with a logged-in user's bearer token (contract v2, "API keys"). The
 * reply's `api_key` is an object holding the key, or (a backend switch) the key itself.
 */
import type { Stack } from '../../dev/stack.js';
import { postJson, registeredTokens } from './backend-login.js';

export async function createApiKey(stack: Stack, login: string, name = 'test key'): Promise<string> {
  const { tokens } = await registeredTokens(stack, { login });
  const created = await postJson(
    `${stack.apiUrl}/v1/mesh/api-keys`,
    { name },
    { authorization: `Bearer ${tokens.access_token}` },
  );
  if (created.status !== 200) throw new Error(`API-key creation answered ${created.status}: ${created.text}`);
  const reply = created.json.api_key as string | { api_key: string };
  return typeof reply === 'string' ? reply : reply.api_key;
}
