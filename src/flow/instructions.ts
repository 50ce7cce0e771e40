/**
 * What to print after a headless login (seeds: "Automatic Token Printing"): the shell lines and
 * the dashboard form for platforms such as Render. Printed for a person at a terminal; never
 * sent to a logger (logs are kept, terminals are not).
 */
import { tokenEnvLines } from '../auth/stores/env-store.js';
import type { TokenSet } from '../auth/token-store.js';

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
    `The access token expires at ${new Date(tokens.expires_at * 1000).toISOString()}; the SDK refreshes it with the refresh token.`,
    'For long-running servers prefer an API key (`npx mesh-env --api-key`): copies of one refresh token revoke each other.',
    '',
  ].join('\n');
}
