/**
 * The seeds' diagnostics as one function (`mesh-auth doctor` prints it): configuration with its
 * sources, API and Auth0 reachability, the keychain, the token, `/auth/validate`, and one
 * authenticated call. Each check says what it found and, when it fails, what to do. An invalid
 * setting is a finding, not the end: the checks that do not need it still run.
 *
 * The doctor checks what the SDK will do, with the SDK's own parts: its probes go through the
 * client's dispatcher (so a proxy the SDK would use is the proxy the doctor tests), and the keychain
 * check is the keychain store's own (`KeychainStore.check()`) on the configuration's slot. With a
 * Redis store (`MESH_TOKEN_STORE=redis://...`), the `token-store` check reads the store's key
 * (`inspect()`: reachable within the bound, key present, record version, sealed and with which key
 * id) without opening the tokens.
 */
import type { Dispatcher } from 'undici';
import { keychainSlotFor, redisStoreFor } from '../auth/stores/create-token-store.js';
import { KeychainStore, type KeychainStoreOptions } from '../auth/stores/keychain-store.js';
import { inspectConfig } from '../client/configuration.js';
import type { MeshClient } from '../client/mesh-client.js';
import type { MeshClientOptions } from '../client/options.js';
import type { AuthStatus } from '../client/types.js';
import { looksLikeRedisUrl } from '../config/parsers.js';
import type { ConfigProblem, ResolvedConfig } from '../config/resolve.js';
import { AbortError, ConfigError, type MeshError } from '../errors/mesh-error.js';
import { HttpClient } from '../http/http-client.js';
import { errorCode } from '../http/retry-policy.js';
import { detectHeadless } from '../internal/headless.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  recommendation?: string;
  /** Not run, because a setting it needs is invalid (see the configuration findings); `ok` is false. */
  skipped?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Bound on each reachability probe, ms (one attempt: a doctor reports, it does not retry). */
const PROBE_TIMEOUT_MS = 5000;

/** Settings the token and API-call checks need: where the tokens are, and which backend they are for. */
const CLIENT_SETTINGS = new Set([
  'apiUrl',
  'auth0.domain',
  'auth0.clientId',
  'auth0.audience',
  'tokenStore',
  'tokenStoreKey',
  'tokenSealingKey',
  'tokenDirectory',
  'headless',
  'apiKey',
  'autoRefresh',
  'refreshAheadSeconds',
]);

export interface DoctorInput {
  /**
   * The client options to diagnose. Their `dispatcher` (else the client's default: the
   * environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY) carries every probe, and the client the
   * token checks use is built with that same dispatcher: the doctor takes the road the SDK takes.
   */
  options: MeshClientOptions;
  /** Builds the client of the token checks (the CLI: `new MeshClient(options)`). */
  makeClient: (options: MeshClientOptions) => MeshClient;
  /**
   * Keychain details (helper environment, time bound, binding), as the token store's own
   * `keychain` dependencies: the check runs on a store built as the configuration's store is.
   */
  keychain?: Partial<KeychainStoreOptions>;
  signal?: AbortSignal;
}

/** How the checks reach the network: one dispatcher, the client's. */
interface Probes {
  dispatcher: Dispatcher;
  signal: AbortSignal | undefined;
}

/** One GET through an HttpClient on the shared dispatcher: its status, or why there was none. */
async function reachable(probes: Probes, baseUrl: string, path: string): Promise<{ status?: number; error?: string }> {
  const http = new HttpClient({ baseUrl, dispatcher: probes.dispatcher, maxRetries: 0, timeout: PROBE_TIMEOUT_MS });
  try {
    const response = await http.send({ method: 'GET', path, signal: probes.signal });
    return { status: response.status };
  } catch (error) {
    if (error instanceof AbortError) throw error;
    return { error: errorCode(error) ?? (error as Error).message };
  }
}

function skipped(name: string, problems: readonly ConfigProblem[]): Check {
  const names = problems.map((problem) => problem.variable ?? `option ${problem.setting}`).join(', ');
  return { name, ok: false, skipped: true, detail: `skipped: needs a valid ${names} (see the configuration finding above)` };
}

/** The store a configuration names, for the configuration row (a Redis URL without its password). */
function storeName(config: ResolvedConfig): string {
  if (typeof config.tokenStore !== 'string') return 'custom';
  if (config.tokenStore !== 'redis' || !config.tokenStoreUrl) return config.tokenStore;
  try {
    const url = new URL(config.tokenStoreUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'redis';
  }
}

/**
 * The Redis store's own reading of its key, through a store built as the client's is, bounded by
 * the probe timeout: reachable, key present, version, sealed (and whether its key id is
 * MESH_TOKEN_KEY's), the lock's state. Never opens the tokens.
 */
async function tokenStoreCheck(config: ResolvedConfig, env: Env): Promise<Check> {
  const store = redisStoreFor(config, { env, connectTimeoutMs: PROBE_TIMEOUT_MS, commandTimeoutMs: PROBE_TIMEOUT_MS });
  const name = 'token-store';
  const where = store.describe();
  try {
    const found = await store.inspect();
    const lock = found.lockHeldMs ? `; refresh lock held (${found.lockHeldMs} ms of lease left)` : '';
    if (found.unusable) {
      return {
        name,
        ok: false,
        detail: `${where}: the value under the key is not a mesh-sdk token record`,
        recommendation: `If the key is mesh-sdk's, run \`npx mesh-auth logout\` (or DEL ${found.key}) and log in again; if another program owns it, set MESH_TOKEN_STORE_KEY to a key of mesh-sdk's own.`,
      };
    }
    if (!found.present) {
      const seeds = config.seedFromEnv && Boolean(env.MESH_ACCESS_TOKEN?.trim() || env.MESH_REFRESH_TOKEN?.trim());
      return seeds
        ? {
            name,
            ok: true,
            detail: `${where}: reachable; key empty, seeded from MESH_ACCESS_TOKEN/MESH_REFRESH_TOKEN on first use${lock}`,
          }
        : {
            name,
            ok: false,
            detail: `${where}: reachable; key empty (nobody has logged in to this store)${lock}`,
            recommendation: `Log in straight into the store: MESH_TOKEN_STORE=<this URL> npx mesh-auth (or seed it: MESH_TOKEN_FROM_ENV=true with the variables of \`npx mesh-auth print-tokens\`).`,
          };
    }
    const version = `version ${found.version}`;
    if (!found.sealed) {
      const sealing = found.sealingKeyId
        ? 'not sealed yet (the next save seals it with MESH_TOKEN_KEY)'
        : 'not sealed: anyone who can read the key can use the tokens (set MESH_TOKEN_KEY to seal them)';
      return { name, ok: true, detail: `${where}: reachable; ${version}, ${sealing}${lock}` };
    }
    if (!found.sealingKeyId) {
      return {
        name,
        ok: false,
        detail: `${where}: reachable; ${version}, sealed with key id ${found.recordKeyId}, and MESH_TOKEN_KEY is not set${lock}`,
        recommendation: `Set MESH_TOKEN_KEY to the 64-hex-character key the other instances use (key id ${found.recordKeyId}).`,
      };
    }
    if (found.sealingKeyId !== found.recordKeyId) {
      return {
        name,
        ok: false,
        detail: `${where}: reachable; ${version}, sealed with key id ${found.recordKeyId}, but MESH_TOKEN_KEY has key id ${found.sealingKeyId}${lock}`,
        recommendation: `Set MESH_TOKEN_KEY to the key with id ${found.recordKeyId}, or reseal the store with this key: \`npx mesh-auth logout\`, then log in.`,
      };
    }
    return {
      name,
      ok: true,
      detail: `${where}: reachable; ${version}, sealed (key id ${found.recordKeyId} matches MESH_TOKEN_KEY)${lock}`,
    };
  } catch (error) {
    if (error instanceof AbortError) throw error;
    return {
      name,
      ok: false,
      detail: `${where}: ${(error as Error).message}`,
      recommendation:
        (error as MeshError).hint ??
        (error instanceof ConfigError ? 'Fix MESH_TOKEN_STORE.' : `Check that Redis is running and reachable (${where}).`),
    };
  } finally {
    await store.close();
  }
}

function configurationCheck(config: ResolvedConfig, env: Env): Check {
  const source = (key: string) => config.sources[key] ?? 'default';
  const verdict = detectHeadless(config.headless, { env });
  const rows = [
    `MESH_PROFILE=${config.profile} (${source('profile')})`,
    ...(config.configFile === undefined ? [] : [`MESH_CONFIG_FILE=${config.configFile} (${source('configFile')})`]),
    `MESH_API_URL=${config.apiUrl} (${source('apiUrl')})`,
    `AUTH0_DOMAIN=${config.auth0.domain} (${source('auth0.domain')})`,
    `AUTH0_CLIENT_ID=${config.auth0.clientId} (${source('auth0.clientId')})`,
    `AUTH0_AUDIENCE=${config.auth0.audience} (${source('auth0.audience')})`,
    `AUTH0_CALLBACK_PORT=${config.callbackPort} (${source('callbackPort')})`,
    `MESH_TOKEN_STORE=${storeName(config)} (${source('tokenStore')})`,
    ...(config.tokenStore === 'redis'
      ? [
          `MESH_TOKEN_KEY=${config.tokenSealingKey ? 'set' : 'not set'}`,
          `MESH_TOKEN_FROM_ENV=${config.seedFromEnv ? 'true: seeds an empty key' : 'false'}`,
        ]
      : []),
    `MESH_HEADLESS=${config.headless ?? 'auto'} (${source('headless')}): ${verdict.headless ? 'headless' : 'not headless'}, ${verdict.reason}`,
    `DEFAULT_PROVIDER=${config.defaultProvider} (${source('defaultProvider')})`,
    `DEFAULT_MODEL=${config.defaultModel} (${source('defaultModel')})`,
    `MESH_API_KEY=${config.apiKey ? 'set' : 'not set'}`,
  ];
  return { name: 'configuration', ok: true, detail: rows.join('; ') };
}

async function apiCheck(probes: Probes, apiUrl: string): Promise<Check> {
  const api = await reachable(probes, apiUrl, '/auth/config');
  return api.status !== undefined && api.status < 500
    ? { name: 'api', ok: true, detail: `${apiUrl} answers (HTTP ${api.status})` }
    : {
        name: 'api',
        ok: false,
        detail: `${apiUrl} ${api.error ? `is unreachable (${api.error})` : `answers HTTP ${api.status}`}`,
        recommendation: 'Check MESH_API_URL and your connection; the deployment may be starting up (try again in a minute).',
      };
}

async function auth0Check(probes: Probes, domain: string): Promise<Check> {
  const auth0 = await reachable(probes, domain, '/.well-known/jwks.json');
  return auth0.status === 200
    ? { name: 'auth0', ok: true, detail: `${domain} publishes its keys` }
    : {
        name: 'auth0',
        ok: false,
        detail: `${domain} ${auth0.error ? `is unreachable (${auth0.error})` : `answers HTTP ${auth0.status}`}`,
        recommendation: 'Check AUTH0_DOMAIN (or the backend /auth/config) and your connection.',
      };
}

/** Why the configuration never uses the keychain, or undefined when it does (`auto` on a desktop, `keychain`). */
function keychainUnused(config: ResolvedConfig, env: Env): string | undefined {
  if (typeof config.tokenStore === 'object') return 'the client is given its own token store';
  if (config.tokenStore === 'keychain') return undefined;
  if (config.tokenStore !== 'auto')
    return `MESH_TOKEN_STORE=${config.tokenStore === 'redis' ? 'a Redis URL' : config.tokenStore}`;
  const headless = detectHeadless(config.headless, { env });
  return headless.headless ? `headless (${headless.reason}): tokens go to the file` : undefined;
}

/**
 * The keychain check of the store itself (write, read back, delete), on the configuration's slot.
 * A keychain the configuration does not use is not a failure: it is reported as not in use.
 */
async function keychainCheck(config: ResolvedConfig, input: DoctorInput, env: Env): Promise<Check> {
  const unused = keychainUnused(config, env);
  if (unused) return { name: 'keychain', ok: true, detail: `not in use: ${unused}` };
  const store = new KeychainStore({ ...keychainSlotFor(config), ...input.keychain });
  try {
    await store.check(input.signal);
    return { name: 'keychain', ok: true, detail: 'the OS keychain works' };
  } catch (error) {
    if (error instanceof AbortError) throw error;
    return {
      name: 'keychain',
      ok: false,
      detail: `unavailable: ${(error as Error).message}`,
      recommendation:
        config.tokenStore === 'keychain'
          ? (error as MeshError).hint
          : `${(error as MeshError).hint} Meanwhile tokens are kept in ~/.mesh/token.json (mode 0600); set MESH_TOKEN_STORE=file to say so.`,
    };
  } finally {
    store.close();
  }
}

async function validateEndpointCheck(probes: Probes, apiUrl: string): Promise<Check> {
  const validate = await reachable(probes, apiUrl, '/auth/validate');
  const absent = validate.status === 404 || validate.status === 405 || validate.status === 501;
  return {
    name: 'validate-endpoint',
    ok: validate.status !== undefined,
    detail:
      validate.status === undefined
        ? 'unreachable'
        : absent
          ? 'absent: tokens are validated locally'
          : `present (HTTP ${validate.status} without a token)`,
    ...(validate.status === undefined ? { recommendation: 'See the api check above.' } : {}),
  };
}

async function tokenChecks(client: MeshClient, signal: AbortSignal | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const status: AuthStatus = await client.authStatus({ signal }).catch((error: Error) => ({
    loggedIn: false,
    profile: client.config.profile,
    credential: 'login' as const,
    store: client.describeTokenStore(),
    reason: error.message,
  }));
  const expiry = status.expiresAt ? `, expires ${new Date(status.expiresAt * 1000).toISOString()}` : '';
  checks.push(
    status.loggedIn
      ? {
          name: 'token',
          ok: true,
          detail: `valid (checked by the ${status.validation?.source ?? 'local'} validator)${expiry}; ${status.store}`,
        }
      : {
          name: 'token',
          ok: false,
          detail: `${status.reason ?? 'not logged in'}; ${status.store}`,
          recommendation: 'Run `npx mesh-auth` to log in.',
        },
  );

  if (status.loggedIn) {
    try {
      const keys = await client.listKeys({ signal });
      checks.push({ name: 'api-call', ok: true, detail: `listKeys answered (${keys.length} keys)` });
    } catch (error) {
      checks.push({
        name: 'api-call',
        ok: false,
        detail: `listKeys failed: ${(error as Error).message}`,
        recommendation: (error as MeshError).hint ?? 'Quote the request id when reporting it.',
      });
    }
  }
  return checks;
}

/**
 * The doctor: a valid configuration runs every check; an invalid one is reported first, one
 * finding per bad setting (what, why, the fix), and the checks that do not need the bad settings
 * still run. The token checks then use a client built without them.
 *
 * @example
 * const checks = await diagnose({ options: {}, makeClient: (options) => new MeshClient(options) });
 * for (const check of checks) console.log(check.name, check.ok);
 */
export async function diagnose(input: DoctorInput): Promise<Check[]> {
  const { options, makeClient } = input;
  const env: Env = options.env ?? process.env;
  const { config, problems } = inspectConfig(options);
  // One HttpClient owns the dispatcher (the given one, else the client's default, proxies from the
  // environment): every probe and the client of the token checks send through it.
  const transport = new HttpClient({ baseUrl: config.apiUrl, dispatcher: options.dispatcher });
  const dispatcher = await transport.dispatcher();
  const probes: Probes = { dispatcher, signal: input.signal };
  const clientOptions = (extra: MeshClientOptions = {}): MeshClientOptions => ({
    ...options,
    ...extra,
    dispatcher,
  });
  try {
    if (problems.length === 0) {
      return [
        configurationCheck(config, env),
        await apiCheck(probes, config.apiUrl),
        await auth0Check(probes, config.auth0.domain),
        await keychainCheck(config, input, env),
        ...(config.tokenStore === 'redis' ? [await tokenStoreCheck(config, env)] : []),
        await validateEndpointCheck(probes, config.apiUrl),
        ...(await tokenChecks(makeClient(clientOptions()), input.signal)),
      ];
    }

    const checks: Check[] = problems.map(({ error }) => ({
      name: 'configuration',
      ok: false,
      detail: error.message,
      ...(error.hint ? { recommendation: error.hint } : {}),
    }));
    const blocking = (...settings: string[]) => problems.filter((problem) => settings.includes(problem.setting));
    const apiBlocked = blocking('apiUrl');
    const auth0Blocked = blocking('auth0.domain');
    checks.push(apiBlocked.length ? skipped('api', apiBlocked) : await apiCheck(probes, config.apiUrl));
    checks.push(auth0Blocked.length ? skipped('auth0', auth0Blocked) : await auth0Check(probes, config.auth0.domain));
    checks.push(await keychainCheck(config, input, env));
    const storeBlocked = blocking('tokenStore', 'tokenStoreKey', 'tokenSealingKey', 'apiUrl', 'auth0.audience');
    const meantRedis =
      config.tokenStore === 'redis' ||
      (typeof options.tokenStore !== 'object' && looksLikeRedisUrl(options.tokenStore ?? env.MESH_TOKEN_STORE ?? ''));
    if (storeBlocked.length && meantRedis) checks.push(skipped('token-store', storeBlocked));
    else if (config.tokenStore === 'redis') checks.push(await tokenStoreCheck(config, env));
    checks.push(
      apiBlocked.length ? skipped('validate-endpoint', apiBlocked) : await validateEndpointCheck(probes, config.apiUrl),
    );

    const clientBlocked = problems.filter((problem) => CLIENT_SETTINGS.has(problem.setting) || problem.variable === undefined);
    if (clientBlocked.length) {
      checks.push(skipped('token', clientBlocked));
      return checks;
    }
    // The bad variables do not matter to the token: build the client as if they were unset.
    const cleanEnv: Record<string, string | undefined> = { ...env };
    for (const problem of problems) if (problem.variable) delete cleanEnv[problem.variable];
    checks.push(...(await tokenChecks(makeClient(clientOptions({ env: cleanEnv })), input.signal)));
    return checks;
  } finally {
    await transport.close();
  }
}
