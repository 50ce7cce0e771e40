/**
 * An OpenID provider standing in for Auth0, on oidc-provider, laid out as an Auth0 tenant is:
 * `/authorize`, `/oauth/token`, `/oauth/device/code`, `/.well-known/jwks.json`, `/userinfo`,
 * `/oauth/revoke`, issuer `http://127.0.0.1:<port>/`.
 *
 * Behaves as Auth0 does where the SDK can tell: PKCE S256 required, refresh tokens issued without
 * a consent prompt and rotated on every use (reusing a rotated one revokes the whole family), JWT
 * access tokens (RS256) whose `aud` is the API audience given by the `audience` parameter, an
 * unknown audience refused, first-party apps never asked for consent.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { handleInteraction } from './interactions.js';
import { deviceSources, renderErrorPage } from './pages.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Settings a test may change while the provider runs (token lifetimes, the test password). */
export interface ProviderSettings {
  /** Access token lifetime, seconds. */
  accessTokenTtl: number;
  /** Access token lifetime when the login asked for `extended_lifetime=true`, seconds. */
  extendedAccessTokenTtl: number;
  /** Refresh token lifetime, seconds. */
  refreshTokenTtl: number;
  /** Authorization code lifetime, seconds. */
  codeTtl: number;
  /** Device code lifetime, seconds. */
  deviceCodeTtl: number;
  /** The password every test user logs in with. */
  password: string;
}

export interface ProviderOptions extends Partial<ProviderSettings> {
  audience: string;
  /** The backend's confidential application. */
  client: { id: string; secret: string; redirectUris: string[] };
  port?: number;
}

export interface ProviderCounters {
  /** Successful token-endpoint grants, by grant type. */
  grants: Record<string, number>;
  /** Refresh attempts with an already-rotated refresh token (each revoked its family). */
  refreshTokenReuse: number;
  /** Failed token-endpoint grants, by OAuth error code. */
  grantErrors: Record<string, number>;
}

export interface RunningProvider {
  /** `http://127.0.0.1:<port>/`, with the trailing slash Auth0 issuers have. */
  issuer: string;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  settings: ProviderSettings;
  counters: ProviderCounters;
  /** The `sub` a test user gets, derived from the login name as a stable Auth0-style id. */
  subjectFor(login: string): string;
  close(): Promise<void>;
}

export const DEFAULT_TEST_PASSWORD = 'mesh-test-password';

/** Auth0-style user id (`auth0|<24 hex>`), stable for a login name. */
export function subjectFor(login: string): string {
  return `auth0|${createHash('sha256').update(login.toLowerCase()).digest('hex').slice(0, 24)}`;
}

function emailFor(login: string): string {
  return login.includes('@') ? login.toLowerCase() : `${login.toLowerCase()}@example.test`;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startProvider(options: ProviderOptions): Promise<RunningProvider> {
  const settings: ProviderSettings = {
    accessTokenTtl: options.accessTokenTtl ?? 3600,
    extendedAccessTokenTtl: options.extendedAccessTokenTtl ?? 30 * 24 * 3600,
    refreshTokenTtl: options.refreshTokenTtl ?? 30 * 24 * 3600,
    codeTtl: options.codeTtl ?? 60,
    deviceCodeTtl: options.deviceCodeTtl ?? 600,
    password: options.password ?? DEFAULT_TEST_PASSWORD,
  };
  const counters: ProviderCounters = { grants: {}, refreshTokenReuse: 0, grantErrors: {} };
  const logins = new Map<string, string>(); // sub -> login name, for claims
  const extendedGrants = new Set<string>(); // grants whose login asked for extended_lifetime

  // The issuer must be known before the provider exists: listen first, mount the handler after.
  let handler: RequestListener | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  const port = await listen(server, options.port ?? 0);
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}/`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };

  const accessTtl = (_ctx: KoaContextWithOIDC, token: { grantId?: string }) =>
    token.grantId && extendedGrants.has(token.grantId) ? settings.extendedAccessTokenTtl : settings.accessTokenTtl;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.client.id,
        client_secret: options.client.secret,
        application_type: 'native', // what permits http loopback redirect URIs
        redirect_uris: options.client.redirectUris,
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'nickname'] },
    extraParams: ['audience', 'extended_lifetime'],
    // Auth0 issues a refresh token whenever the app may use the grant, with no consent prompt.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: accessTtl as never,
      RefreshToken: (() => settings.refreshTokenTtl) as never,
      AuthorizationCode: (() => settings.codeTtl) as never,
      DeviceCode: (() => settings.deviceCodeTtl) as never,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 365 * 24 * 3600,
    },
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      device_authorization: '/oauth/device/code',
      code_verification: '/activate',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      revocation: '/oauth/revoke',
      end_session: '/v2/logout',
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      // A client may revoke only its own tokens (RFC 7009 §2.1).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      deviceFlow: { enabled: true, charset: 'base-20', ...deviceSources },
      resourceIndicators: {
        enabled: true,
        // Auth0 names the API with `audience`; without it, the tenant's default audience.
        defaultResource: async (ctx) => (ctx.oidc.params?.audience as string | undefined) ?? options.audience,
        // Without this, `openid` in scope makes the token endpoint issue an opaque userinfo token.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== options.audience) throw new errors.AccessDenied(`Service not found: ${resource}`);
          return {
            audience: options.audience,
            scope: 'read:keys write:keys chat',
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    findAccount: async (_ctx, sub) => {
      const login = logins.get(sub);
      if (login === undefined) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: emailFor(login), email_verified: true, name: login, nickname: login }),
      };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out);
    },
  });
  provider.on('grant.success', (ctx) => {
    const grantType = String(ctx.oidc.params?.grant_type);
    counters.grants[grantType] = (counters.grants[grantType] ?? 0) + 1;
  });
  provider.on('grant.error', (_ctx, error) => {
    const code = (error as { error?: string }).error ?? 'unknown';
    counters.grantErrors[code] = (counters.grantErrors[code] ?? 0) + 1;
    if ((error as { error_detail?: string }).error_detail === 'refresh token already used') counters.refreshTokenReuse += 1;
  });

  const callback = provider.callback();
  handler = (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/interaction/')) {
      handleInteraction(provider, req, res, {
        settings,
        remember: (login) => {
          const sub = subjectFor(login);
          logins.set(sub, login);
          return sub;
        },
        markExtended: (grantId) => extendedGrants.add(grantId),
      }).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    origin,
    settings,
    counters,
    subjectFor,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
