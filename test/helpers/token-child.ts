/**
 * A child process for the cross-process tests. Modes (argv[2]):
 * - `loop`: calls getAccessToken() every few ms for MESH_CHILD_MS (or MESH_CHILD_CALLS times), then prints
 *   {"calls", "errors", "tokens": [distinct access tokens]} as JSON.
 * - `hold-lock`: takes the refresh lock, says "locked", and waits to be killed.
 */
import { join } from 'node:path';
import { BackendAuth } from '../../src/auth/backend/backend-auth.js';
import { RefreshLock } from '../../src/auth/locks/refresh-lock.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { SkewClock } from '../../src/auth/tokens/clock.js';
import { TokenManager } from '../../src/auth/tokens/token-manager.js';
import { HttpClient } from '../../src/http/http-client.js';

const directory = process.env.MESH_CHILD_DIR as string;
const lock = new RefreshLock(join(directory, 'token.json.lock'));

if (process.argv[2] === 'hold-lock') {
  await lock.acquire();
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
} else {
  const clock = new SkewClock();
  const manager = new TokenManager({
    store: new FileStore({ directory }),
    backendAuth: new BackendAuth({
      http: new HttpClient({ baseUrl: process.env.MESH_API_URL as string, timeout: 10_000 }),
      clock,
    }),
    clock,
    lock,
  });
  // Either for MESH_CHILD_MS, or MESH_CHILD_CALLS calls MESH_CHILD_PAUSE_MS apart.
  const until = process.env.MESH_CHILD_CALLS ? Number.POSITIVE_INFINITY : Date.now() + Number(process.env.MESH_CHILD_MS);
  const maxCalls = Number(process.env.MESH_CHILD_CALLS ?? Number.POSITIVE_INFINITY);
  const pause = Number(process.env.MESH_CHILD_PAUSE_MS ?? 10);
  const tokens = new Set<string>();
  const errors: string[] = [];
  let calls = 0;
  while (Date.now() < until && calls < maxCalls) {
    try {
      tokens.add(await manager.getAccessToken());
    } catch (error) {
      errors.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
  }
  process.stdout.write(`${JSON.stringify({ calls, errors, tokens: [...tokens] })}\n`);
}
