/**
 * The Auth0 settings a login uses: options and environment first; for settings still at their
 * defaults, the backend's `/auth/config` when MESH_API_URL points somewhere other than the
 * default deployment (a self-hosted backend has its own tenant); then the defaults. The device
 * flow always takes its client id from `GET /auth/config?flow=device`: the deployed tenant grants
 * the device flow to a second (native) application only.
 */
import type { BackendAuth, BackendAuthConfig } from '../auth/backend/backend-auth.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { DEFAULT_API_URL } from '../config/settings.js';
import { ErrorCode } from '../errors/codes.js';
import { LoginError } from '../errors/mesh-error.js';

export interface Auth0Settings {
  /** Origin, e.g. `https://tenant.us.auth0.com`. */
  domain: string;
  clientId: string;
  audience: string;
  scope: string;
}

/** What the Python SDK asks for (auth.py 1.5.5): `offline_access` brings the refresh token. */
export const DEFAULT_SCOPE = 'openid profile email offline_access';

const isDefault = (config: ResolvedConfig, key: string) => config.sources[key] === 'default';

function merge(config: ResolvedConfig, published: BackendAuthConfig | undefined): Auth0Settings {
  const settings: Auth0Settings = { ...config.auth0, scope: DEFAULT_SCOPE };
  if (!published || config.apiUrl === DEFAULT_API_URL) return settings;
  if (isDefault(config, 'auth0.domain')) settings.domain = published.domain;
  if (isDefault(config, 'auth0.clientId')) settings.clientId = published.clientId;
  if (isDefault(config, 'auth0.audience') && published.audience) settings.audience = published.audience;
  if (published.scope?.split(' ').includes('offline_access')) settings.scope = published.scope;
  return settings;
}

/** The browser login's settings. A backend without `/auth/config` (404) leaves the configured ones. */
export async function resolveAuth0Settings(
  config: ResolvedConfig,
  auth: BackendAuth,
  signal?: AbortSignal,
): Promise<Auth0Settings> {
  const anyDefault = ['auth0.domain', 'auth0.clientId', 'auth0.audience'].some((key) => isDefault(config, key));
  if (!anyDefault || config.apiUrl === DEFAULT_API_URL) return merge(config, undefined);
  let published: BackendAuthConfig | undefined;
  try {
    published = await auth.config('web', signal);
  } catch (error) {
    // No /auth/config here (404): the configured settings stand. Anything else is worth saying:
    // a self-hosted backend's login with the default tenant's settings would fail less clearly.
    if ((error as { status?: number }).status !== 404) throw error;
  }
  return merge(config, published);
}

/**
 * The device flow's settings: domain and audience as for the browser login (with the device
 * config standing in for `/auth/config`), the client id always the backend's device application.
 * @throws LoginError when the backend does not say which application that is.
 */
export async function resolveDeviceSettings(
  config: ResolvedConfig,
  auth: BackendAuth,
  signal?: AbortSignal,
): Promise<Auth0Settings> {
  let published: BackendAuthConfig;
  try {
    published = await auth.config('device', signal);
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new LoginError(
      'The device login needs the backend to name its device application (GET /auth/config?flow=device), and it did not.',
      {
        code: ErrorCode.LOGIN_DEVICE_CONFIG_UNAVAILABLE,
        cause: error,
        hint: 'Check MESH_API_URL and your connection; or log in on a machine with a browser and copy the tokens (`npx mesh-auth print-tokens`), or set MESH_API_KEY.',
      },
    );
  }
  return { ...merge(config, published), clientId: published.clientId };
}
