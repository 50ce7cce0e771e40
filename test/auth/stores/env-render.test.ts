// The texts that hand credentials over as environment variables: pinned word for word (users
// paste them into dashboards and docs quote them), and read back by the SDK's own readers.
import { describe, expect, it } from 'vitest';
import {
  envInstructions,
  ROTATION_WARNING,
  renderApiKeyEnvFile,
  renderTokenEnvFile,
  tokenEnvLines,
} from '../../../src/auth/stores/env-render.js';
import { EnvStore } from '../../../src/auth/stores/env-store.js';
import type { TokenSet } from '../../../src/auth/stores/token-store.js';
import { resolveConfig } from '../../../src/config/resolve.js';
import { DEFAULT_API_URL } from '../../../src/config/settings.js';

const TOKENS: TokenSet = { access_token: 'eyJ.access.sig', refresh_token: 'refresh-secret', expires_at: 1_900_000_000 };
const NOW = new Date('2025-01-02T03:04:05.000Z');

/** A .env file as a platform reads it: NAME=value lines, comments and blank lines skipped. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

describe('env-render', () => {
  it('envInstructions: the shell lines and the dashboard form, word for word', () => {
    expect(envInstructions(TOKENS)).toBe(
      [
        '',
        'To use these tokens on a server or a platform whose disk does not persist:',
        '',
        '# In a shell',
        'export MESH_TOKEN_FROM_ENV=true',
        'export MESH_ACCESS_TOKEN=eyJ.access.sig',
        'export MESH_REFRESH_TOKEN=refresh-secret',
        'export MESH_TOKEN_EXPIRES_AT=1900000000',
        '',
        '# In a dashboard (Render, Railway, Heroku, ...): one variable per line',
        'MESH_TOKEN_FROM_ENV=true',
        'MESH_ACCESS_TOKEN=eyJ.access.sig',
        'MESH_REFRESH_TOKEN=refresh-secret',
        'MESH_TOKEN_EXPIRES_AT=1900000000',
        '',
        'The access token expires at 2030-03-17T17:46:40.000Z; the SDK refreshes it with the refresh token.',
        'For long-running servers prefer an API key (`npx mesh-env --api-key`): copies of one refresh token revoke each other.',
        '',
      ].join('\n'),
    );
  });

  it('renderTokenEnvFile: header with the rotation warning, MESH_API_URL only off the default deployment', () => {
    const header = [
      '# Mesh credentials written by mesh-env on 2025-01-02T03:04:05.000Z. Keep this file secret.',
      `# ${ROTATION_WARNING}`,
      '# The access token expires at 2030-03-17T17:46:40.000Z; the SDK refreshes it.',
    ];
    const lines = tokenEnvLines(TOKENS);
    expect(renderTokenEnvFile(TOKENS, DEFAULT_API_URL, NOW)).toBe(`${[...header, ...lines].join('\n')}\n`);
    expect(renderTokenEnvFile(TOKENS, 'http://127.0.0.1:9', NOW)).toBe(
      `${[...header, 'MESH_API_URL=http://127.0.0.1:9', ...lines].join('\n')}\n`,
    );
  });

  it('renderApiKeyEnvFile: one key, its name and id in the header', () => {
    const key = { id: 'key-1', name: 'web prod', key: 'mesh_secret' };
    expect(renderApiKeyEnvFile(key, 'http://127.0.0.1:9', NOW)).toBe(
      [
        '# Mesh API key "web prod" (id key-1) written by mesh-env on 2025-01-02T03:04:05.000Z. Keep this file secret.',
        '# One key per deployment: revoke it alone (in the Mesh web interface) when that deployment is retired.',
        'MESH_API_URL=http://127.0.0.1:9',
        'MESH_API_KEY=mesh_secret',
        '',
      ].join('\n'),
    );
  });

  it('what the token .env says, the env store reads back (with and without a refresh token)', async () => {
    for (const tokens of [TOKENS, { access_token: 'only.access.sig', expires_at: 1_900_000_001 }]) {
      const env = parseEnvFile(renderTokenEnvFile(tokens, 'http://127.0.0.1:9', NOW));
      expect(await new EnvStore({ env }).load()).toEqual(tokens);
      expect(resolveConfig({ env }).apiUrl).toBe('http://127.0.0.1:9');
    }
  });

  it('what the API-key .env says, the configuration reads back', () => {
    const env = parseEnvFile(renderApiKeyEnvFile({ id: undefined, name: 'n', key: 'mesh_k' }, DEFAULT_API_URL, NOW));
    const config = resolveConfig({ env });
    expect([config.apiKey, config.apiUrl]).toEqual(['mesh_k', DEFAULT_API_URL]);
  });
});
