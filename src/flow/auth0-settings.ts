/**
 * The Auth0 settings a login uses: options and environment first; for settings still at their
 * defaults, the backend's `/auth/config` when MESH_API_URL points somewhere other than the
 * default deployment (a self-hosted backend has its own tenant); then the defaults.
 */
import { auth0DomainValue } from '../config/parsers.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { DEFAULT_API_URL } from '../config/settings.js';
import type { LoginApi } from './login-api.js';

export interface Auth0Settings {
  /** Origin, e.g. `https://tenant.us.auth0.com`. */
  domain: string;
  clientId: string;
  audience: string;
  scope: string;
}

export const DEFAULT_SCOPE = 'openid profile email offline_access';

export async function resolveAuth0Settings(config: ResolvedConfig, api: LoginApi, signal?: AbortSignal): Promise<Auth0Settings> {
  const settings: Auth0Settings = { ...config.auth0, scope: DEFAULT_SCOPE };
  const fromDefaults = ['auth0.domain', 'auth0.clientId', 'auth0.audience'].filter((key) => config.sources[key] === 'default');
  if (fromDefaults.length === 0 || config.apiUrl === DEFAULT_API_URL) return settings;
  const published = await api.config(signal);
  if (!published) return settings;
  const domain = auth0DomainValue.schema.safeParse(published.domain);
  if (config.sources['auth0.domain'] === 'default' && domain.success) settings.domain = domain.data;
  if (config.sources['auth0.clientId'] === 'default') settings.clientId = published.client_id;
  if (config.sources['auth0.audience'] === 'default') settings.audience = published.audience;
  if (published.scope?.split(' ').includes('offline_access')) settings.scope = published.scope;
  return settings;
}
