// Property-based fuzzing of every parser that reads outside input: only the parser's own typed
// error may escape, and nothing hangs. FUZZ_RUNS sets the runs per property (the soak uses 10,000).

import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvStore } from '../../src/auth/stores/env-store.js';
import { parseStoredTokenJson, TokenSetFormatError } from '../../src/auth/tokens/token-set.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors/mesh-error.js';
import { interpretCallback } from '../../src/flow/loopback-listener.js';
import { parseRetryAfter } from '../../src/http/retry-after.js';
import { readSseData } from '../../src/http/sse.js';
import { decodeJwt, JwtFormatError } from '../../src/internal/jwt.js';

const runs = Number(process.env.FUZZ_RUNS ?? 300);
const options = { numRuns: runs, interruptAfterTimeLimit: 20_000 };
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Near-valid JWTs: JSON values in the parts, odd part counts, odd alphabets. */
const jwtLike = fc.oneof(
  fc.string(),
  fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string()).map(([h, p, s]) => `${b64(h)}.${b64(p)}.${s}`),
  fc.array(fc.base64String(), { maxLength: 6 }).map((parts) => parts.join('.')),
  fc.string({ unit: 'binary' }),
);

function onlyThrows(run: () => unknown, ...allowed: Array<abstract new (...args: never[]) => Error>): void {
  try {
    run();
  } catch (error) {
    if (!allowed.some((kind) => error instanceof kind)) throw error;
  }
}

describe('fuzzing', () => {
  it('the JWT decoder throws only JwtFormatError, and decodes what it accepts to objects', () => {
    fc.assert(
      fc.property(jwtLike, (token) => {
        onlyThrows(() => {
          const { header, payload } = decodeJwt(token);
          expect(typeof header).toBe('object');
          expect(typeof payload).toBe('object');
        }, JwtFormatError);
      }),
      options,
    );
  });

  it('the token-file parser throws only TokenSetFormatError, and never drops a refresh token it was given', () => {
    const tokenish = fc.record(
      {
        access_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        refresh_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        expires_at: fc.oneof(fc.double(), fc.string(), fc.constant(null), fc.integer()),
        token_type: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          tokenish.map((v) => JSON.stringify(v)),
        ),
        (text) => {
          onlyThrows(() => {
            const tokens = parseStoredTokenJson(text);
            expect(Number.isFinite(tokens.expires_at)).toBe(true);
            const given = (JSON.parse(text) as { refresh_token?: unknown }).refresh_token;
            if (typeof given === 'string' && given !== '') expect(tokens.refresh_token).toBe(given);
          }, TokenSetFormatError);
        },
      ),
      options,
    );
  });

  it('the env parser (EnvStore) never throws and keeps a given refresh token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.string()),
        fc.option(fc.string()),
        fc.option(fc.string()),
        async (access, refresh, expires) => {
          const env: Record<string, string | undefined> = {
            MESH_ACCESS_TOKEN: access ?? undefined,
            MESH_REFRESH_TOKEN: refresh ?? undefined,
            MESH_TOKEN_EXPIRES_AT: expires ?? undefined,
          };
          const silent = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };
          const tokens = await new EnvStore({ env, logger: silent }).load();
          if (refresh?.trim()) expect(tokens?.refresh_token).toBe(refresh.trim());
          if (tokens) expect(Number.isFinite(tokens.expires_at)).toBe(true);
        },
      ),
      options,
    );
  });

  it('the config parser throws only ConfigError, for any value of any variable', () => {
    const names = [
      'MESH_API_URL',
      'AUTH0_DOMAIN',
      'AUTH0_CLIENT_ID',
      'AUTH0_AUDIENCE',
      'AUTH0_CALLBACK_PORT',
      'AUTO_REFRESH',
      'MESH_HEADLESS',
      'MESH_TOKEN_STORE',
      'MESH_TOKEN_FROM_ENV',
      'MESH_TOKEN_DIR',
      'MESH_EXTENDED_TOKEN_LIFETIME',
      'MESH_API_KEY',
      'MESH_REFRESH_AHEAD_SECONDS',
      'DEBUG',
    ];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('true', 'no', '8000', '0'))),
        (env) => {
          onlyThrows(() => resolveConfig({ env }), ConfigError);
        },
      ),
      options,
    );
  });

  it('a profile name is accepted only as one path segment of its own, and anything else is a ConfigError', () => {
    const nameLike = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.stringMatching(/^[A-Za-z0-9._/ -]{0,70}$/),
      fc.constantFrom('.', '..', '../x', 'a/..', '/', 'x'.repeat(64), 'x'.repeat(65)),
    );
    fc.assert(
      fc.property(nameLike, (name) => {
        onlyThrows(() => {
          const { profile } = resolveConfig({ env: {}, profile: name });
          if (profile === 'default') return;
          const base = join('/base', 'profiles');
          expect(dirname(join(base, profile))).toBe(base);
          expect(basename(join(base, profile))).toBe(profile);
        }, ConfigError);
      }),
      options,
    );
  });

  it('the callback-query parser accepts only the right state, and never throws', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.dictionary(fc.constantFrom('state', 'code', 'error', 'error_description', 'iss', 'x'), fc.string()),
        (state, query) => {
          const verdict = interpretCallback(new URLSearchParams(query), state);
          if (query.state !== state) expect(verdict).toEqual({ kind: 'rejected', reason: 'state' });
          if (verdict.kind === 'error') expect(verdict.error).toMatch(/^[A-Za-z_]{1,64}$|^unknown$/);
        },
      ),
      options,
    );
  });

  it('the SSE parser never throws and yields exactly the data of complete events, however the bytes are split', async () => {
    const events = fc.array(
      fc.string().filter((s) => !/[\r\n]/.test(s)),
      { maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(
        events,
        fc.array(fc.nat({ max: 40 }), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (datas, cuts, eol) => {
          const bytes = new TextEncoder().encode(datas.map((d) => `data: ${d}${eol}${eol}`).join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          async function* chunks() {
            let at = 0;
            for (const point of [...points, bytes.length]) {
              yield bytes.subarray(at, point);
              at = point;
            }
          }
          const seen: string[] = [];
          for await (const data of readSseData(chunks())) seen.push(data);
          expect(seen).toEqual(datas);
        },
      ),
      options,
    );
  });

  it('the SSE parser survives arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), async (parts) => {
        async function* chunks() {
          yield* parts;
        }
        for await (const data of readSseData(chunks())) expect(typeof data).toBe('string');
      }),
      options,
    );
  });

  it('the Retry-After parser never throws and answers undefined or a whole number of seconds >= 0', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
          fc.integer().map(String),
          fc.double().map(String),
        ),
        (value) => {
          const seconds = parseRetryAfter(value, Date.parse('2026-11-23T12:00:00Z'));
          if (seconds !== undefined) {
            expect(Number.isInteger(seconds)).toBe(true);
            expect(seconds).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      options,
    );
  });
});
