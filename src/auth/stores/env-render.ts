/**
 * Every text that hands credentials over as environment variables: the token lines the env store
 * reads back (`MESH_TOKEN_FROM_ENV`, `MESH_ACCESS_TOKEN`, ...), the export lines `mesh-auth
 * print-tokens` prints when asked (never unasked: a headless login only says how to get them), and
 * the `.env` files `mesh-env` writes.
 *
 * Why here, in auth and beside env-store.ts: the writer of these variables sits next to their
 * reader, so the names cannot drift apart; and auth is below diagnostics and cli (print-tokens,
 * mesh-env), so each of them imports this one module directly.
 * The text is printed for a person at a terminal or written to a 0600 file; never to a logger.
 */
import { DEFAULT_API_URL } from '../../config/settings.js';
import type { TokenSet } from './token-store.js';

export const ROTATION_WARNING =
  'The refresh token rotates: copying it into several deployments logs all of them out at the first refresh ' +
  '(reusing a rotated token revokes the whole family). For servers and fleets use `mesh-env --api-key NAME`.';

/** What a `.env` of an API key needs of a newly created key (the client's `CreatedApiKey` fits). */
export interface EnvApiKey {
  id: string | undefined;
  name: string;
  key: string;
}

/** The lines that put a token set into the environment, as the env store reads them back. */
export function tokenEnvLines(tokens: TokenSet): string[] {
  const lines = ['MESH_TOKEN_FROM_ENV=true', `MESH_ACCESS_TOKEN=${tokens.access_token}`];
  if (tokens.refresh_token) lines.push(`MESH_REFRESH_TOKEN=${tokens.refresh_token}`);
  lines.push(`MESH_TOKEN_EXPIRES_AT=${tokens.expires_at}`);
  return lines;
}

function expiry(tokens: TokenSet): string {
  return new Date(tokens.expires_at * 1000).toISOString();
}

/**
 * What to print after a headless login and for `mesh-auth print-tokens` (seeds: "Automatic Token
 * Printing"): the shell lines and the dashboard form for platforms such as Render.
 */
export function envInstructions(tokens: TokenSet): string {
  const lines = tokenEnvLines(tokens);
  return [
    '',
    'To use these tokens on a server or a platform whose disk does not persist:',
    '',
    '# In a shell',
    ...lines.map((line) => `export ${line}`),
    '',
    '# In a dashboard (Render, Railway, Heroku, ...): one variable per line',
    ...lines,
    '',
    `The access token expires at ${expiry(tokens)}; the SDK refreshes it with the refresh token.`,
    'For long-running servers prefer an API key (`npx mesh-env --api-key`): copies of one refresh token revoke each other.',
    '',
  ].join('\n');
}

function header(lines: string[]): string {
  return lines.map((line) => `# ${line}`).join('\n');
}

/** The default deployment needs no MESH_API_URL line. */
function apiUrlLine(apiUrl: string): string[] {
  return apiUrl === DEFAULT_API_URL ? [] : [`MESH_API_URL=${apiUrl}`];
}

/** The `.env` of `mesh-env`: the token variables, under the rotation warning. */
export function renderTokenEnvFile(tokens: TokenSet, apiUrl: string, now = new Date()): string {
  return `${[
    header([
      `Mesh credentials written by mesh-env on ${now.toISOString()}. Keep this file secret.`,
      ROTATION_WARNING,
      `The access token expires at ${expiry(tokens)}; the SDK refreshes it.`,
    ]),
    ...apiUrlLine(apiUrl),
    ...tokenEnvLines(tokens),
  ].join('\n')}\n`;
}

/** The `.env` of `mesh-env --api-key`: one per-deployment key. */
export function renderApiKeyEnvFile(key: EnvApiKey, apiUrl: string, now = new Date()): string {
  return `${[
    header([
      `Mesh API key "${key.name}" (id ${key.id}) written by mesh-env on ${now.toISOString()}. Keep this file secret.`,
      'One key per deployment: revoke it alone (in the Mesh web interface) when that deployment is retired.',
    ]),
    ...apiUrlLine(apiUrl),
    `MESH_API_KEY=${key.key}`,
  ].join('\n')}\n`;
}
