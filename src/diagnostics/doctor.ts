/**
 * The seeds' diagnostics as one function (`mesh-auth doctor` prints it): configuration with its
 * sources, API and Auth0 reachability, the keychain, the token, `/auth/validate`, and one
 * authenticated call. Each check says what it found and, when it fails, what to do.
 */
import { request } from 'undici';
import { KeychainClient } from '../auth/keychain/keychain-client.js';
import { KEYCHAIN_SERVICE } from '../auth/stores/keychain-store.js';
import type { MeshClient } from '../client/mesh-client.js';
import type { AuthStatus } from '../client/types.js';
import type { MeshError } from '../errors/mesh-error.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  recommendation?: string;
}

const PROBE_TIMEOUT_MS = 5000;

async function reachable(url: string): Promise<{ status?: number; error?: string }> {
  try {
    const response = await request(url, { method: 'GET', headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? (error as Error).message };
  }
}

function configurationCheck(client: MeshClient): Check {
  const { config } = client;
  const source = (key: string) => config.sources[key] ?? 'default';
  const rows = [
    `MESH_API_URL=${config.apiUrl} (${source('apiUrl')})`,
    `AUTH0_DOMAIN=${config.auth0.domain} (${source('auth0.domain')})`,
    `AUTH0_CLIENT_ID=${config.auth0.clientId} (${source('auth0.clientId')})`,
    `AUTH0_AUDIENCE=${config.auth0.audience} (${source('auth0.audience')})`,
    `AUTH0_CALLBACK_PORT=${config.callbackPort} (${source('callbackPort')})`,
    `MESH_TOKEN_STORE=${typeof config.tokenStore === 'string' ? config.tokenStore : 'custom'} (${source('tokenStore')})`,
    `MESH_HEADLESS=${config.headless ?? 'auto'} (${source('headless')})`,
    `MESH_API_KEY=${config.apiKey ? 'set' : 'not set'}`,
  ];
  return { name: 'configuration', ok: true, detail: rows.join('; ') };
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

export async function runDiagnostics(client: MeshClient): Promise<Check[]> {
  const { config } = client;
  const checks: Check[] = [configurationCheck(client)];

  const api = await reachable(`${config.apiUrl}/auth/config`);
  checks.push(
    api.status !== undefined && api.status < 500
      ? { name: 'api', ok: true, detail: `${config.apiUrl} answers (HTTP ${api.status})` }
      : {
          name: 'api',
          ok: false,
          detail: `${config.apiUrl} ${api.error ? `is unreachable (${api.error})` : `answers HTTP ${api.status}`}`,
          recommendation: 'Check MESH_API_URL and your connection; the deployment may be starting up (try again in a minute).',
        },
  );

  const auth0 = await reachable(`${config.auth0.domain}/.well-known/jwks.json`);
  checks.push(
    auth0.status === 200
      ? { name: 'auth0', ok: true, detail: `${config.auth0.domain} publishes its keys` }
      : {
          name: 'auth0',
          ok: false,
          detail: `${config.auth0.domain} ${auth0.error ? `is unreachable (${auth0.error})` : `answers HTTP ${auth0.status}`}`,
          recommendation: 'Check AUTH0_DOMAIN (or the backend /auth/config) and your connection.',
        },
  );

  checks.push(await keychainCheck());

  const validate = await reachable(`${config.apiUrl}/auth/validate`);
  const absent = validate.status === 404 || validate.status === 405 || validate.status === 501;
  checks.push({
    name: 'validate-endpoint',
    ok: validate.status !== undefined,
    detail:
      validate.status === undefined
        ? 'unreachable'
        : absent
          ? 'absent: tokens are validated locally'
          : `present (HTTP ${validate.status} without a token)`,
    ...(validate.status === undefined ? { recommendation: 'See the api check above.' } : {}),
  });

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
      checks.push({ name: 'api-call', ok: true, detail: `GET /api/v1/keys answered (${keys.length} keys)` });
    } catch (error) {
      checks.push({
        name: 'api-call',
        ok: false,
        detail: `GET /api/v1/keys failed: ${(error as Error).message}`,
        recommendation: (error as MeshError).hint ?? 'Run `npx mesh-auth doctor --json` and quote the request id when reporting.',
      });
    }
  }
  return checks;
}
