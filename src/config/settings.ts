import type { ValueParser } from './parsers.js';
import {
  apiKeyValue,
  apiUrlValue,
  auth0DomainValue,
  booleanValue,
  directoryValue,
  millisecondsValue,
  nonEmptyValue,
  portValue,
  retriesValue,
  secondsValue,
} from './parsers.js';

export const DEFAULT_API_URL = 'https://mesh-abh5.onrender.com';
export const DEFAULT_AUTH0_DOMAIN = 'dev-hzpwy8oqs2ojss6r.us.auth0.com';
export const DEFAULT_AUTH0_CLIENT_ID = 'Ky6gtf5PPUs1IpIFdm91ttQs4Oxpj0Nq';
export const DEFAULT_AUTH0_AUDIENCE = 'https://mesh-abh5.onrender.com';

/** One row of the configuration table: option path, environment variable, parser and default. */
export interface Setting<T> {
  /** Dotted option path, e.g. `auth0.domain`. */
  readonly option: string;
  readonly env?: string;
  readonly parser: ValueParser<T>;
  readonly default: T | undefined;
  /** Never echo the value in an error. */
  readonly secret?: boolean;
}

function setting<T>(row: Setting<T>): Setting<T> {
  return row;
}

/**
 * The plain settings of architecture.md's configuration table. `tokenStore`, `debug` and
 * `logger` have rules of their own and are resolved beside these (see resolve.ts).
 */
export const SETTINGS = {
  apiUrl: setting({ option: 'apiUrl', env: 'MESH_API_URL', parser: apiUrlValue, default: DEFAULT_API_URL }),
  auth0Domain: setting({
    option: 'auth0.domain',
    env: 'AUTH0_DOMAIN',
    parser: auth0DomainValue,
    default: `https://${DEFAULT_AUTH0_DOMAIN}`,
  }),
  auth0ClientId: setting({
    option: 'auth0.clientId',
    env: 'AUTH0_CLIENT_ID',
    parser: nonEmptyValue,
    default: DEFAULT_AUTH0_CLIENT_ID,
  }),
  auth0Audience: setting({
    option: 'auth0.audience',
    env: 'AUTH0_AUDIENCE',
    parser: nonEmptyValue,
    default: DEFAULT_AUTH0_AUDIENCE,
  }),
  callbackPort: setting({ option: 'callbackPort', env: 'AUTH0_CALLBACK_PORT', parser: portValue, default: 8000 }),
  autoRefresh: setting({ option: 'autoRefresh', env: 'AUTO_REFRESH', parser: booleanValue, default: true }),
  refreshAheadSeconds: setting({
    option: 'refreshAheadSeconds',
    env: 'MESH_REFRESH_AHEAD_SECONDS',
    parser: secondsValue,
    default: 300,
  }),
  headless: setting<boolean>({ option: 'headless', env: 'MESH_HEADLESS', parser: booleanValue, default: undefined }),
  extendedTokenLifetime: setting({
    option: 'extendedTokenLifetime',
    env: 'MESH_EXTENDED_TOKEN_LIFETIME',
    parser: booleanValue,
    default: true,
  }),
  apiKey: setting<string>({
    option: 'apiKey',
    env: 'MESH_API_KEY',
    parser: apiKeyValue,
    default: undefined,
    secret: true,
  }),
  tokenDirectory: setting<string>({
    option: 'tokenDirectory',
    env: 'MESH_TOKEN_DIR',
    parser: directoryValue,
    default: undefined,
  }),
  timeout: setting({ option: 'timeout', parser: millisecondsValue, default: 60_000 }),
  maxRetries: setting({ option: 'maxRetries', parser: retriesValue, default: 2 }),
} as const;
