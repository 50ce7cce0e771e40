/**
 * What `mesh-env` writes: the token variables (with the rotation warning), or a per-deployment
 * API key; and whether a path sits in a git work tree without being ignored.
 */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { tokenEnvLines } from '../auth/stores/env-store.js';
import type { TokenSet } from '../auth/token-store.js';
import type { CreatedApiKey } from '../client/types.js';
import { DEFAULT_API_URL } from '../config/settings.js';

const run = promisify(execFile);

export const ROTATION_WARNING =
  'The refresh token rotates: copying it into several deployments logs all of them out at the first refresh ' +
  '(reusing a rotated token revokes the whole family). For servers and fleets use `mesh-env --api-key NAME`.';

function header(lines: string[]): string {
  return lines.map((line) => `# ${line}`).join('\n');
}

function apiUrlLine(apiUrl: string): string[] {
  return apiUrl === DEFAULT_API_URL ? [] : [`MESH_API_URL=${apiUrl}`];
}

export function renderTokenEnvFile(tokens: TokenSet, apiUrl: string, now = new Date()): string {
  return `${[
    header([
      `Mesh credentials written by mesh-env on ${now.toISOString()}. Keep this file secret.`,
      ROTATION_WARNING,
      `The access token expires at ${new Date(tokens.expires_at * 1000).toISOString()}; the SDK refreshes it.`,
    ]),
    ...apiUrlLine(apiUrl),
    ...tokenEnvLines(tokens),
  ].join('\n')}\n`;
}

export function renderApiKeyEnvFile(key: CreatedApiKey, apiUrl: string, now = new Date()): string {
  return `${[
    header([
      `Mesh API key "${key.name}" (id ${key.id}) written by mesh-env on ${now.toISOString()}. Keep this file secret.`,
      'One key per deployment: revoke it alone (in the Mesh web interface) when that deployment is retired.',
    ]),
    ...apiUrlLine(apiUrl),
    `MESH_API_KEY=${key.key}`,
  ].join('\n')}\n`;
}

/** `tracked`: inside a git work tree and not ignored (a commit could publish it); else `safe`. */
export async function gitExposure(path: string): Promise<'tracked' | 'safe'> {
  const cwd = dirname(path);
  try {
    await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd });
  } catch {
    return 'safe'; // not a work tree, or no git
  }
  try {
    await run('git', ['check-ignore', '-q', path], { cwd });
    return 'safe'; // ignored
  } catch {
    return 'tracked';
  }
}
