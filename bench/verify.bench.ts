/**
 * mesh-sdk/server's verifier against what a user writes with jose alone (`jwtVerify` with
 * `createRemoteJWKSet`), on the same RS256 tokens from the same JWKS server (a real node:http server
 * on loopback, test/helpers/server-issuer.ts), side by side, taking turns:
 *
 * 1. warm verifications per second, one caller, keys cached (goal: >= 1.0x jose);
 * 2. latency across a key rotation, one caller, the JWKS answering after BENCH_JWKS_DELAY_MS
 *    (20 ms: an IdP across a network) with `Cache-Control: max-age=2` and both caches set to honour
 *    it (jose: cacheMaxAge 2 s; both cool-downs 1 s). Halfway through, the issuer rotates and half the
 *    tokens are signed with the new key. Goal: no request waits for a fetch it did not need (only the
 *    first token of the new key does; jose also makes a request wait at each expiry).
 *
 * Prints figures; asserts nothing. Run: npm run bench:verify
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createVerifier } from '../src/server/index.js';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from '../test/helpers/server-issuer.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1_500);
const ROTATION_RUN_MS = Number(process.env.BENCH_ROTATION_MS ?? 8_000);
const JWKS_DELAY_MS = Number(process.env.BENCH_JWKS_DELAY_MS ?? 20);
const TOKENS = 200;

type Verify = (token: string) => Promise<unknown>;

function ours(issuer: TestIssuer, jwks: { cooldownSeconds?: number } = {}): Verify {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: TEST_AUDIENCE,
    jwksUri: issuer.jwksUri,
    algorithms: ['RS256'],
    jwks,
    env: {},
  });
  return (token) => verifier.verify(token);
}

function joseAlone(issuer: TestIssuer, options: { cacheMaxAge?: number; cooldownDuration?: number } = {}): Verify {
  const keys = createRemoteJWKSet(new URL(issuer.jwksUri), options);
  return (token) => jwtVerify(token, keys, { issuer: issuer.issuer, audience: TEST_AUDIENCE, algorithms: ['RS256'] });
}

async function tokensOf(issuer: TestIssuer, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => issuer.sign({ sub: `user-${i}` })));
}

async function throughput(verify: Verify, tokens: string[], ms: number): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  const started = performance.now();
  while (performance.now() < until) {
    await verify(tokens[done % tokens.length] as string);
    done += 1;
  }
  return done / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

async function warmPath(): Promise<void> {
  const issuer = await startTestIssuer();
  const tokens = await tokensOf(issuer, TOKENS);
  const variants: Record<string, Verify> = { 'mesh-sdk/server': ours(issuer), 'jose alone': joseAlone(issuer) };
  for (const verify of Object.values(variants)) await throughput(verify, tokens, 300); // warm-up: keys, JIT
  const rates: Record<string, number[]> = { 'mesh-sdk/server': [], 'jose alone': [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['mesh-sdk/server', 'jose alone'] : ['jose alone', 'mesh-sdk/server'];
    for (const name of order) rates[name]?.push(await throughput(variants[name] as Verify, tokens, ROUND_MS));
  }
  console.log(`\nWarm verifications per second (RS256, one caller, ${ROUNDS} rounds of ${ROUND_MS} ms each, taking turns):`);
  for (const [name, list] of Object.entries(rates)) {
    console.log(`  ${name.padEnd(16)} median ${Math.round(median(list))}/s  rounds ${list.map((r) => Math.round(r)).join(' ')}`);
  }
  const ratio = median(rates['mesh-sdk/server'] as number[]) / median(rates['jose alone'] as number[]);
  console.log(`  ratio mesh-sdk/server / jose: ${ratio.toFixed(2)}x (goal >= 1.0x)`);
  console.log(`  JWKS fetches during the run: ${issuer.counts.jwks} (one per variant)`);
  await issuer.close();
}

async function acrossRotation(name: string, make: (issuer: TestIssuer) => Verify): Promise<void> {
  const issuer = await startTestIssuer();
  issuer.cacheControl = 'max-age=2';
  issuer.delayMs = JWKS_DELAY_MS;
  const verify = make(issuer);
  const before = await tokensOf(issuer, TOKENS);
  await verify(before[0] as string);
  const fetchesAtStart = issuer.counts.jwks;
  let after: string[] | undefined;
  const rotateAt = performance.now() + ROTATION_RUN_MS / 2;
  const until = performance.now() + ROTATION_RUN_MS;
  const samples: number[] = [];
  let i = 0;
  while (performance.now() < until) {
    if (!after && performance.now() >= rotateAt) {
      await issuer.rotate();
      after = await tokensOf(issuer, TOKENS);
    }
    const pool = after && i % 2 === 1 ? after : before;
    const token = pool[i % pool.length] as string;
    const started = performance.now();
    await verify(token);
    samples.push(performance.now() - started);
    i += 1;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const waited = samples.filter((ms) => ms >= JWKS_DELAY_MS * 0.75).length;
  console.log(
    `  ${name.padEnd(16)} n=${samples.length}  p50 ${percentile(sorted, 50).toFixed(3)} ms  p99 ${percentile(sorted, 99).toFixed(3)} ms  ` +
      `p99.9 ${percentile(sorted, 99.9).toFixed(3)} ms  max ${(sorted.at(-1) as number).toFixed(1)} ms  ` +
      `requests that waited for a fetch: ${waited}  JWKS fetches: ${issuer.counts.jwks - fetchesAtStart}`,
  );
  await issuer.close();
}

await warmPath();
console.log(
  `\nLatency across a key rotation (${ROTATION_RUN_MS / 1000} s each, rotation halfway, JWKS max-age 2 s answering in ${JWKS_DELAY_MS} ms):`,
);
for (let round = 0; round < 2; round++) {
  const pair: Array<[string, (issuer: TestIssuer) => Verify]> = [
    ['mesh-sdk/server', (issuer) => ours(issuer, { cooldownSeconds: 1 })],
    ['jose alone', (issuer) => joseAlone(issuer, { cacheMaxAge: 2_000, cooldownDuration: 1_000 })],
  ];
  for (const [name, make] of round % 2 === 0 ? pair : pair.reverse()) await acrossRotation(name, make);
}
