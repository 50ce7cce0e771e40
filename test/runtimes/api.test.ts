// The token-based API as a user calls it on each runtime: the same script (scripts/api.mjs: an
// API key's chat, stream, key routes and image; tokens from the environment, refreshed; a token
// provider) under Node.js, Bun, Deno and an edge Worker (workerd, bundled by wrangler from the
// packed package), against the local stack. In the Worker, what needs a machine of one's own is a
// typed error (scripts/limits.mjs).
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../helpers/api-key.js';
import { decodeJwtPayload, registeredTokens } from '../helpers/backend-login.js';
import { useStack } from '../helpers/stack.js';
import {
  type ConsumerProject,
  consumerProject,
  LOCAL_RUNTIMES,
  type LocalRuntime,
  lastJson,
  runCommand,
  scriptCommand,
} from './harness.js';
import { bundleWorker, type CompatibilityFlags, startWorker } from './workerd.js';

const stack = useStack();
let project: ConsumerProject;
/** The Worker bundled with the nodejs_compat flag (what most Workers set) and without any flag. */
const workerBundles = new Map<string, string>();

beforeAll(async () => {
  project = await consumerProject('runtimes-api');
  await cp(join(import.meta.dirname, 'scripts'), project.dir, { recursive: true });
  for (const flags of WORKER_FLAGS) workerBundles.set(flags.join(), await bundleWorker(project.dir, 'worker.mjs', flags));
}, 180_000);

const WORKER_FLAGS: CompatibilityFlags[] = [['nodejs_compat'], []];

afterAll(async () => {
  await project?.remove();
});

/** A local runtime, or workerd with the Worker's compatibility flags. */
type Runtime = LocalRuntime | 'workerd';
interface Target {
  name: string;
  runtime: Runtime;
  flags?: CompatibilityFlags;
}
const TARGETS: Target[] = [
  ...LOCAL_RUNTIMES.map((runtime) => ({ name: runtime, runtime })),
  ...WORKER_FLAGS.map((flags) => ({ name: `workerd (flags: ${flags.join() || 'none'})`, runtime: 'workerd' as const, flags })),
];

/** A fresh login per run (a refresh rotates the refresh token), an API key, and the stack's settings. */
async function scriptEnv(runtime: Runtime): Promise<Record<string, string>> {
  const login = `runtime-${runtime}@example.test`;
  const { tokens } = await registeredTokens(stack, { login });
  return {
    ...stack.env,
    RUNTIME_NAME: runtime,
    MESH_API_KEY: await createApiKey(stack, login, `${runtime} key`),
    MESH_ACCESS_TOKEN: tokens.access_token,
    MESH_REFRESH_TOKEN: tokens.refresh_token as string,
  };
}

interface ScriptAnswer {
  ok: boolean;
  seen?: Record<string, unknown>;
  error?: { name: string; code?: string; message: string; stack?: string };
}

/** Runs a script (api or limits) on a runtime; a Worker runs it per request. */
async function runScript(
  target: Target,
  script: 'api' | 'limits' | 'server',
  env: Record<string, string>,
): Promise<ScriptAnswer> {
  const { runtime, flags = [] } = target;
  if (runtime === 'workerd') {
    const worker = await startWorker(project.dir, workerBundles.get(flags.join()) as string, env, flags);
    try {
      const response = await fetch(`${worker.url}/${script}`);
      const text = await response.text();
      try {
        return JSON.parse(text) as ScriptAnswer;
      } catch {
        throw new Error(`The Worker answered ${response.status}: ${text}\n${worker.output()}`);
      }
    } finally {
      await worker.close();
    }
  }
  const result = await runCommand(scriptCommand(runtime, 'run-local.mjs', [`./${script}.mjs`]), {
    cwd: project.dir,
    env: { PATH: process.env.PATH, HOME: project.dir, ...env },
  });
  return lastJson<ScriptAnswer>(result);
}

describe.each(TARGETS)('on $name', (target) => {
  const { runtime } = target;
  it('an API key, env tokens and a token provider: chat, stream, keys and images work', async () => {
    const answer = await runScript(target, 'api', await scriptEnv(runtime));
    expect(answer.error, answer.error?.stack).toBeUndefined();
    expect(answer.seen).toEqual({
      chat: expect.stringContaining('12'),
      stream: expect.stringMatching(/\S/),
      key: `value-for-${runtime}`,
      keys: true,
      image: { mediaType: 'image/png', bytes: true },
      tokens: expect.stringContaining('12'),
      tokensStatus: 'env',
      provider: expect.stringContaining('12'),
    });
  });
});

describe.each(TARGETS)('mesh-sdk/server on $name', (target) => {
  it('verifies an access token and an API key, and refuses a forged token with 401', async () => {
    const env = await scriptEnv(target.runtime);
    const answer = await runScript(target, 'server', env);
    expect(answer.error, answer.error?.stack).toBeUndefined();
    const subject = decodeJwtPayload(env.MESH_ACCESS_TOKEN as string).sub;
    expect(answer.seen).toEqual({
      token: { kind: 'token', subject },
      apiKey: { kind: 'api_key', subject: expect.any(String) },
      forged: { name: expect.stringMatching(/Error$/), status: 401 },
    });
  });
});

describe.each(TARGETS.filter((target) => target.runtime === 'workerd'))('in an edge Worker, $name', (target) => {
  it('the bundle wrangler makes from the package has no undici in it', async () => {
    const bundle = await readFile(workerBundles.get((target.flags ?? []).join()) as string, 'utf8');
    expect(bundle).toContain('mesh-sdk');
    expect(bundle).not.toMatch(/node_modules\/undici\//);
    expect(bundle).not.toMatch(/node_modules\/(open|redis|sharp)\//);
  });

  it('the login and the local token stores are typed errors that name the runtime and what to use instead', async () => {
    const apiKey = await createApiKey(stack, 'worker-limits@example.test');
    const before = stack.backend.counters.imagesGenerated;
    const answer = await runScript(target, 'limits', { MESH_API_URL: stack.apiUrl, MESH_API_KEY: apiKey });
    expect(answer.error, answer.error?.stack).toBeUndefined();
    const seen = answer.seen as Record<string, { name: string; code: string; message: string; hint: string }>;
    expect(Object.keys(seen)).toEqual(['defaultClient', 'fileStore', 'keychainStore', 'redisStore', 'login', 'saveTo']);
    expect(stack.backend.counters.imagesGenerated).toBe(before); // saveTo was refused before anything was generated
    for (const [attempt, error] of Object.entries(seen)) {
      expect(error, attempt).toMatchObject({ name: 'UnsupportedRuntimeError', code: 'unsupported_runtime' });
      expect(error.message, attempt).toMatch(/edge Worker \(workerd\)/);
      expect(error.hint, attempt).toMatch(/apiKey/);
    }
  });
});
