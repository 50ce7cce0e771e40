/**
 * The local stack in a process of its own, for benchmarks (the server must not share the
 * measured client's event loop). Prints one JSON line `{ apiUrl, env }` when ready; stops on
 * SIGTERM. BENCH_TTL sets the access tokens' lifetime in seconds, BENCH_LATENCY_MS the backend's
 * delay before each answer.
 */
import { startStack } from '../dev/stack.js';

const ttl = process.env.BENCH_TTL ? Number(process.env.BENCH_TTL) : undefined;
const stack = await startStack(ttl ? { provider: { accessTokenTtl: ttl } } : {});
stack.backend.settings.rateLimitPerMinute = 100_000_000;
stack.backend.settings.latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 0);
process.stdout.write(`${JSON.stringify({ apiUrl: stack.apiUrl, env: stack.env })}\n`);
process.on('SIGTERM', () => void stack.close().then(() => process.exit(0)));
