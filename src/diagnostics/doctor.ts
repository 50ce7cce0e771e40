/**
 * The seeds' diagnostics as one function (`mesh-auth doctor` prints it): configuration with its
 * sources, API and Auth0 reachability, the keychain, the token, `/auth/validate`, and one
 * authenticated call. Each check says what it found and, when it fails, what to do. An invalid
 * setting is a finding, not the end: the checks that do not need it still run.
 */
import { request } from 'undici';
import { detectHeadless } from '../auth/headless.js';
import { KeychainClient } from '../auth/keychain/keychain-client.js';
import { KEYCHAIN_SERVICE } from '../auth/stores/keychain-store.js';
import type { MeshClient } from '../client/mesh-client.js';
import type { AuthStatus } from '../client/types.js';
import type { MeshClientOptions } from '../config/options.js';
import { type ConfigProblem, inspectConfig, type ResolvedConfig } from '../config/resolve.js';
import type { MeshError } from '../errors/mesh-error.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  recommendation?: string;
  /** Not run, because a setting it needs is invalid (see the configuration findings); `ok` is false. */
  skipped?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const PROBE_TIMEOUT_MS = 5000;

/** Settings the token and API-call checks need: where the tokens are, and which backend they are for. */
const CLIENT_SETTINGS = new Set([
  'apiUrl',
  'auth0.domain',
  'auth0.clientId',
  'auth0.audience',
  'tokenStore',
  'tokenDirectory',
  'headless',
  'apiKey',
  'autoRefresh',
  'refreshAheadSeconds',
]);

async function reachable(url: string): Promise<{ status?: number; error?: string }> {
  try {
    const response = await request(url, { method: 'GET', headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? (error as Error).message };
  }
}

function skipped(name: string, problems: readonly ConfigProblem[]): Check {
  const names = problems.map((problem) => problem.variable ?? `option ${problem.setting}`).join(', ');
  return { name, ok: false, skipped: true, detail: `skipped: needs a valid ${names} (see the configuration finding above)` };
}

function configurationCheck(config: ResolvedConfig, env: Env): Check {
  const source = (key: string) => config.sources[key] ?? 'default';
  const verdict = detectHeadless(config.headless, { env });
  const rows = [
    `MESH_API_URL=${config.apiUrl} (${source('apiUrl')})`,
    `AUTH0_DOMAIN=${config.auth0.domain} (${source('auth0.domain')})`,
    `AUTH0_CLIENT_ID=${config.auth0.clientId} (${source('auth0.clientId')})`,
    `AUTH0_AUDIENCE=${config.auth0.audience} (${source('auth0.audience')})`,
    `AUTH0_CALLBACK_PORT=${config.callbackPort} (${source('callbackPort')})`,
    `MESH_TOKEN_STORE=${typeof config.tokenStore === 'string' ? config.tokenStore : 'custom'} (${source('tokenStore')})`,
    `MESH_HEADLESS=${config.headless ?? 'auto'} (${source('headless')}): ${verdict.headless ? 'headless' : 'not headless'}, ${verdict.reason}`,
    `DEFAULT_PROVIDER=${config.defaultProvider} (${source('defaultProvider')})`,
    `DEFAULT_MODEL=${config.defaultModel} (${source('defaultModel')})`,
    `MESH_API_KEY=${config.apiKey ? 'set' : 'not set'}`,
  ];
  return { name: 'configuration', ok: true, detail: rows.join('; ') };
}

async function apiCheck(apiUrl: string): Promise<Check> {
  const api = await reachable(`${apiUrl}/auth/config`);
  return api.status !== undefined && api.status < 500
    ? { name: 'api', ok: true, detail: `${apiUrl} answers (HTTP ${api.status})` }
    : {
        name: 'api',
        ok: false,
        detail: `${apiUrl} ${api.error ? `is unreachable (${api.error})` : `answers HTTP ${api.status}`}`,
        recommendation: 'Check MESH_API_URL and your connection; the deployment may be starting up (try again in a minute).',
      };
}

async function auth0Check(domain: string): Promise<Check> {
  const auth0 = await reachable(`${domain}/.well-known/jwks.json`);
  return auth0.status === 200
    ? { name: 'auth0', ok: true, detail: `${domain} publishes its keys` }
    : {
        name: 'auth0',
        ok: false,
        detail: `${domain} ${auth0.error ? `is unreachable (${auth0.error})` : `answers HTTP ${auth0.status}`}`,
        recommendation: 'Check AUTH0_DOMAIN (or the backend /auth/config) and your connection.',
      };
}

async function keychainCheck(): Promise<Check> {
  const probe = new KeychainClient({ service: KEYCHAIN_SERVICE, timeoutMs: 3000 });
  try {
    // Verify before trusting: write, read back, delete a probe value.
    await probe.set('mesh-doctor-probe', 'probe');
    const back = await probe.get('mesh-doctor-probe');
    await probe.delete('mesh-doctor-probe');
    if (back !== 'probe') throw new Error('the probe value did not read back');
    return { name: 'keychain', ok: true, detail: 'the OS keychain works' };
  } catch (error) {
    return {
      name: 'keychain',
      ok: false,
      detail: `unavailable: ${(error as Error).message}`,
      recommendation:
        (error as MeshError).hint ??
        'Tokens are kept in ~/.mesh/token.json (mode 0600) instead; set MESH_TOKEN_STORE=file to say so.',
    };
  } finally {
    probe.close();
  }
}

async function validateEndpointCheck(apiUrl: string): Promise<Check> {
  const validate = await reachable(`${apiUrl}/auth/validate`);
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

async function tokenChecks(client: MeshClient): Promise<Check[]> {
  const checks: Check[] = [];
  const status: AuthStatus = await client
    .authStatus()
    .catch((error: Error) => ({ loggedIn: false, store: client.describeTokenStore(), reason: error.message }));
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
      const keys = await client.listKeys();
      checks.push({ name: 'api-call', ok: true, detail: `listKeys answered (${keys.length} keys)` });
    } catch (error) {
      checks.push({
        name: 'api-call',
        ok: false,
        detail: `listKeys failed: ${(error as Error).message}`,
        recommendation: (error as MeshError).hint ?? 'Run `npx mesh-auth doctor --json` and quote the request id when reporting.',
      });
    }
  }
  return checks;
}

/**
 * Runs every check with a client whose configuration is valid.
 *
 * @example
 * for (const check of await runDiagnostics(new MeshClient())) console.log(check.name, check.ok);
 */
export async function runDiagnostics(client: MeshClient, env: Env = process.env): Promise<Check[]> {
  const { config } = client;
  return [
    configurationCheck(config, env),
    await apiCheck(config.apiUrl),
    await auth0Check(config.auth0.domain),
    await keychainCheck(),
    await validateEndpointCheck(config.apiUrl),
    ...(await tokenChecks(client)),
  ];
}

/**
 * The doctor from options: a valid configuration runs every check (`runDiagnostics`); an invalid
 * one is reported first, one finding per bad setting (what, why, the fix), and the checks that do
 * not need the bad settings still run. The token checks then use a client built without them.
 */
export async function diagnose(
  options: MeshClientOptions,
  makeClient: (options: MeshClientOptions) => MeshClient,
): Promise<Check[]> {
  const env: Env = options.env ?? process.env;
  const { config, problems } = inspectConfig(options);
  if (problems.length === 0) return runDiagnostics(makeClient(options), env);

  const checks: Check[] = problems.map(({ error }) => ({
    name: 'configuration',
    ok: false,
    detail: error.message,
    ...(error.hint ? { recommendation: error.hint } : {}),
  }));
  const blocking = (...settings: string[]) => problems.filter((problem) => settings.includes(problem.setting));
  const apiBlocked = blocking('apiUrl');
  const auth0Blocked = blocking('auth0.domain');
  checks.push(apiBlocked.length ? skipped('api', apiBlocked) : await apiCheck(config.apiUrl));
  checks.push(auth0Blocked.length ? skipped('auth0', auth0Blocked) : await auth0Check(config.auth0.domain));
  checks.push(await keychainCheck());
  checks.push(apiBlocked.length ? skipped('validate-endpoint', apiBlocked) : await validateEndpointCheck(config.apiUrl));

  const clientBlocked = problems.filter((problem) => CLIENT_SETTINGS.has(problem.setting) || problem.variable === undefined);
  if (clientBlocked.length) {
    checks.push(skipped('token', clientBlocked));
    return checks;
  }
  // The bad variables do not matter to the token: build the client as if they were unset.
  const cleanEnv: Record<string, string | undefined> = { ...env };
  for (const problem of problems) if (problem.variable) delete cleanEnv[problem.variable];
  checks.push(...(await tokenChecks(makeClient({ ...options, env: cleanEnv }))));
  return checks;
}
