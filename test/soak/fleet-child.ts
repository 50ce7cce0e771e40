/**
 * One process of one simulated machine in the fleet soak (test/soak/fleet.ts): a real MeshClient
 * on the shared Redis token store making FLEET_CALLS real API calls (`listKeys()`), paced over
 * FLEET_DURATION_MS. It prints `ready {"warmup"}` once built and warmed up by one call, starts on
 * a `go` line on stdin, and ends by printing one JSON line: its calls, failures, and each access
 * token it sent (a fingerprint, the token's `iat` and `exp`, and when this process first and last sent it),
 * read off the real requests.
 *
 * Env: the stack's (MESH_API_URL, AUTH0_*), HOME and TMPDIR of its machine, FLEET_REDIS_URL,
 * FLEET_REDIS_KEY, FLEET_LEASE_MS, FLEET_FORM (`env`: MESH_TOKEN_STORE=redis://..., as a user
 * deploys; `option`: `tokenStore: redisTokenStore(...)`).
 * The victim (FLEET_VICTIM_ARM_MS set) always uses the option form, because it wraps the store's
 * lock: the first time its token manager takes the fleet's refresh lock after that many ms, it
 * prints `holding-lock <json>` and stops right there, lock held, until the soak SIGKILLs it.
 * FLEET_NO_LOCK=1 (the soak's self-check) gives every process a lock that excludes nobody.
 */
import { createHash } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { createInterface } from 'node:readline';
import type { TokenLock } from '../../src/auth/locks/token-lock.js';
import { redisTokenStore } from '../../src/auth/stores/redis-store.js';
import type { TokenStore } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { createLogger } from '../../src/internal/logger.js';

const env = process.env;
const calls = Number(env.FLEET_CALLS);
const durationMs = Number(env.FLEET_DURATION_MS);
const victimArmMs = env.FLEET_VICTIM_ARM_MS === undefined ? undefined : Number(env.FLEET_VICTIM_ARM_MS);
// The soak's self-check (FLEET_NO_LOCK=1): a lock that excludes nobody, which the soak must catch.
const noLock = env.FLEET_NO_LOCK === '1';
const form = victimArmMs === undefined && !noLock ? env.FLEET_FORM : 'option';

/** What this process saw of one access token: never the token itself. */
interface Seen {
  fingerprint: string;
  iat: number;
  exp: number;
  firstMs: number;
  lastMs: number;
  uses: number;
}
const seen = new Map<string, Seen>();
const errors: string[] = [];
// The SDK's warnings (a save that failed, a store that could not be read...), except the expected
// one that the (unsealed, test) store holds tokens in the clear.
const warnings: string[] = [];
const logger = {
  debug() {},
  warn(message: string) {
    if (!message.includes('in the clear')) warnings.push(message.slice(0, 300));
  },
};
let ok = 0;
let done = 0;

// The token each call really sent, from undici's own request events (the API calls only).
subscribe('undici:request:create', (message) => {
  const { request } = message as { request: { path: string; headers: string[] | string } };
  if (!request.path.startsWith('/api/v1/listKeys')) return;
  const headers = Array.isArray(request.headers) ? request.headers : request.headers.split('\r\n').flatMap((l) => l.split(': '));
  const index = headers.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'authorization');
  const token = index >= 0 ? headers[index + 1]?.replace(/^Bearer /, '') : undefined;
  if (!token) return;
  const now = Date.now();
  const known = seen.get(token);
  if (known) {
    known.lastMs = now;
    known.uses += 1;
    return;
  }
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    iat: number;
    exp: number;
  };
  const fingerprint = createHash('sha256').update(token).digest('hex').slice(0, 16);
  seen.set(token, { fingerprint, iat: payload.iat, exp: payload.exp, firstMs: now, lastMs: now, uses: 1 });
});

function report(): string {
  return JSON.stringify({
    calls: done,
    ok,
    failed: errors.length,
    errors: errors.slice(0, 5),
    warnings,
    tokens: [...seen.values()],
  });
}

let goAtMs = 0;
function optionStore(): TokenStore & { lock: TokenLock } {
  const store = redisTokenStore({
    url: env.FLEET_REDIS_URL,
    key: env.FLEET_REDIS_KEY,
    leaseMs: Number(env.FLEET_LEASE_MS),
    logger: createLogger({ logger }),
  });
  if (noLock) {
    return {
      load: () => store.load(),
      save: (tokens) => store.save(tokens),
      clear: () => store.clear(),
      describe: () => store.describe(),
      lock: { acquire: async () => ({ release: async () => {} }) },
    };
  }
  if (victimArmMs === undefined) return store;
  // The victim: the real store and the real lock, with a stop inside the lock once armed.
  return {
    load: () => store.load(),
    save: (tokens) => store.save(tokens),
    clear: () => store.clear(),
    describe: () => store.describe(),
    lock: {
      acquire: async (signal) => {
        const held = await store.lock.acquire(signal);
        if (goAtMs > 0 && Date.now() - goAtMs >= victimArmMs) {
          process.stdout.write(`holding-lock ${report()}\n`);
          setInterval(() => {}, 60_000);
          await new Promise(() => {}); // held until SIGKILL
        }
        return held;
      },
    },
  };
}

const client = new MeshClient({
  env: form === 'env' ? { ...env, MESH_TOKEN_STORE: env.FLEET_REDIS_URL, MESH_TOKEN_STORE_KEY: env.FLEET_REDIS_KEY } : env,
  ...(form === 'env' ? {} : { tokenStore: optionStore() }),
  logger,
});

// Boot as a service does before it takes traffic: one real call (loads the `redis` client,
// connects, reads the shared set, warms the HTTP path). Counted apart from the paced calls; the
// tokens it sent are in the report with the others.
let warmup = 'ok';
try {
  await client.listKeys({ signal: AbortSignal.timeout(60_000) });
} catch (error) {
  warmup = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 300);
}
process.stdout.write(`ready ${JSON.stringify({ warmup })}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();
goAtMs = Date.now();

const pauseMs = durationMs / calls;
for (let i = 0; i < calls; i++) {
  try {
    await client.listKeys({ signal: AbortSignal.timeout(30_000) });
    ok += 1;
  } catch (error) {
    errors.push(`${(error as Error).name} ${(error as { code?: string }).code ?? ''}: ${(error as Error).message}`.slice(0, 300));
  }
  done += 1;
  // Paced on the clock (not after each call), so a slow moment does not stretch the run; jittered.
  const next = goAtMs + (i + 1) * pauseMs + (Math.random() - 0.5) * pauseMs;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
}
process.stdout.write(`${report()}\n`);
// Ends by itself, as a script does: a refresh ahead of expiry that the last call started runs to
// its save first (cutting it off mid-refresh could lose the rotated refresh token). A process
// still alive 30 s later is a finding: exit 3.
await client.close();
setTimeout(() => process.exit(3), 30_000).unref();
