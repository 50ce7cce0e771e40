/**
 * A process that refreshes its login and may be killed while doing it, for the crash tests and the
 * crash soak (`npm run soak:crash`). Configured by its environment:
 * - the SDK's own variables (MESH_API_URL, MESH_TOKEN_STORE, MESH_TOKEN_DIR, ...), as a user sets them;
 * - CRASH_AT: a refresh step (`intent-saved`, `reply-received`, `saved`, from the `mesh-sdk:refresh`
 *   channel, or `temp-written`: the new set's temp file is on disk, not yet renamed) at which the
 *   process sends itself CRASH_SIGNAL (SIGKILL, SIGINT or SIGTERM); unset: no self-kill (the
 *   parent may kill it from outside);
 * - CRASH_SDK: the SDK's source folder (default this checkout's `src`), so the soak can measure an
 *   older version side by side;
 * - CRASH_FORCE=0: ask for a token as any program does (refreshing only when due) instead of
 *   forcing a refresh;
 * - CRASH_LEASE_MS: with a Redis store, its refresh lock's lease (a SIGKILLed holder's lock lasts
 *   that long), passed as a user passes it: `tokenStore: redisTokenStore({ url, key, leaseMs })`.
 * It prints `refreshing` when the refresh starts, then one JSON line: `{ ok, code?, message? }`.
 */
import { subscribe } from 'node:diagnostics_channel';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const sdk = resolve(process.env.CRASH_SDK ?? resolve(import.meta.dirname, '../../src'));
const at = process.env.CRASH_AT;
const signal = (process.env.CRASH_SIGNAL ?? 'SIGKILL') as NodeJS.Signals;

let rotated = false;
const die = () => process.kill(process.pid, signal);
subscribe('mesh-sdk:refresh', (message) => {
  const { step } = message as { step: string };
  if (step === 'reply-received') rotated = true;
  if (step === at) die();
});
subscribe('mesh-sdk:secret-file', (message) => {
  const { path } = message as { path: string };
  if (at === 'temp-written' && rotated && path.endsWith('token.json')) die();
});

const { assembleClient } = (await import(
  pathToFileURL(`${sdk}/client/assemble.ts`).href
)) as typeof import('../../src/client/assemble.js');
const lease = process.env.CRASH_LEASE_MS;
const redisUrl = process.env.MESH_TOKEN_STORE?.startsWith('redis') ? process.env.MESH_TOKEN_STORE : undefined;
const { redisTokenStore } = (await import(
  pathToFileURL(`${sdk}/auth/stores/redis-store.ts`).href
)) as typeof import('../../src/auth/stores/redis-store.js');
const tokenStore =
  lease && redisUrl
    ? redisTokenStore({ url: redisUrl, key: process.env.MESH_TOKEN_STORE_KEY, leaseMs: Number(lease) })
    : undefined;
const parts = assembleClient({ interactive: false, ...(tokenStore ? { tokenStore } : {}) });
process.stdout.write('refreshing\n');
try {
  await parts.session?.manager.getAccessToken({ forceRefresh: process.env.CRASH_FORCE !== '0' });
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, code, message })}\n`);
}
