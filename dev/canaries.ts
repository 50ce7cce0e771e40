/**
 * Records every secret the local stack issues or receives (tokens, codes, verifiers, device
 * codes, API keys, stored key values) when MESH_CANARY_FILE is set: the canary run then searches
 * all output and files for them (scripts/canary-scan.mjs). One line per secret.
 */
import { appendFileSync } from 'node:fs';

export function recordSecrets(...values: unknown[]): void {
  const file = process.env.MESH_CANARY_FILE;
  if (!file) return;
  const secrets = values.filter((value): value is string => typeof value === 'string' && value.length >= 16);
  if (secrets.length > 0) appendFileSync(file, `${secrets.join('\n')}\n`);
}
