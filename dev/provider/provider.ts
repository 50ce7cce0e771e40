/**
 * An OpenID provider standing in for Auth0, on oidc-provider, laid out as an Auth0 tenant is:
 * `/authorize`, `/oauth/token`, `/oauth/device/code`, `/.well-known/jwks.json`, `/userinfo`,
 * `/oauth/revoke`, issuer `http://127.0.0.1:<port>/`.
 *
 * Behaves as Auth0 does where the SDK can tell: two applications, the backend's confidential one
 * (authorization code + refresh; PKCE verified whenever the authorize request carried a challenge,
 * not required, since the deployed backend forwards none) and a public native one for the device
 * flow (device code + refresh, no secret); refresh tokens issued without a consent prompt, bound to
 * their application and rotated on every use (reusing a rotated one revokes the whole family, but
 * the one just rotated out is forgiven within Auth0's rotation overlap period: refresh-overlap.ts);
 * JWT access tokens (RS256) whose `aud` is the API audience given by the `audience` parameter; an
 * unknown audience refused; first-party apps never asked for consent; Auth0's device-flow statuses
 * and pacing (auth0-device.ts).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { DEVICE_CODE_GRANT, withAuth0Device } from './auth0-device.js';
import { handleInteraction } from './interactions.js';
import { deviceSources, renderErrorPage } from './pages.js';
import { RotationLog, withRefreshOverlap } from './refresh-overlap.js';
import type { ProviderSettings } from './settings.js';

export { DEVICE_CODE_GRANT } from './auth0-device.js';
export type { ProviderSettings } from './settings.js';

/**
 * oidc-provider warns "Unsupported runtime" on import under Node 20 (it targets 22+, works on
 * 20.20) and about its in-memory adapter on start (meant for development, which this is): filter
 * exactly those two lines while it loads and starts, so test and demo output stays clean.
 */
const KNOWN_NOISE = ['Unsupported runtime', 'development-only in-memory adapter'];
async function quietly<T>(run: () => Promise<T> | T): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && KNOWN_NOISE.some((line) => (args[0] as string).includes(line))) return;
    warn(...args);
  };
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}

export interface ProviderOptions extends Partial<ProviderSettings> {
  audience: string;
  /** The backend's confidential application. */
  client: { id: string; secret: string; redirectUris: string[] };
  /** The public native application for the device flow (no secret), as `?flow=device` names it. */
  deviceClient: { id: string };
  port?: number;
  /** Hold a second, unpublished signing key so that `rotateKeys()` can switch to it (costs one RSA key generation). */
  spareSigningKey?: boolean;
}

export interface ProviderCounters {
  /** Successful token-endpoint grants, by grant type. */
  grants: Record<string, number>;
  /** Refresh attempts with an already-rotated refresh token (each revoked its family). */
  refreshTokenReuse: number;
  /**
   * Refreshes granted with the previous refresh token within the rotation overlap period
   * (`refreshReuseIntervalSeconds`): reuses forgiven, not counted in `refreshTokenReuse`.
   */
  reuseIntervalGrants: number;
  /**
   * Successful refreshes per token family (the grant a login started, which every rotated refresh
   * token of that login shares), keyed by an opaque family id. The fleet soak reads these.
   */
  refreshesByFamily: Record<string, number>;
  /** Families (grants) revoked: by refresh-token reuse, `/oauth/revoke` or logout. */
  revokedFamilies: number;
  /** Failed token-endpoint grants, by OAuth error code. */
  grantErrors: Record<string, number>;
  /** Device-code polls answered `slow_down`. */
  slowDowns: number;
  /** When each device-code poll arrived (epoch ms), in order: the pacing a client kept. */
  devicePollTimes: number[];
  /** Requests for `/.well-known/jwks.json` (anyone's: the backend's too). */
  jwksFetches: number;
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
  /**
   * An Auth0 signing-key rotation: access tokens are signed with the spare key from now on, and the
   * JWKS publishes it next to the old one (tokens already issued stay verifiable). Once; needs
   * `spareSigningKey`.
   */
  rotateKeys(): void;
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
    refreshReuseIntervalSeconds: options.refreshReuseIntervalSeconds ?? 0,
    codeTtl: options.codeTtl ?? 60,
    deviceCodeTtl: options.deviceCodeTtl ?? 600,
    password: options.password ?? DEFAULT_TEST_PASSWORD,
    deviceInterval: options.deviceInterval ?? 5,
    devicePollFloor: options.devicePollFloor ?? 0,
    deviceErrorStatuses: options.deviceErrorStatuses ?? 'auth0',
  };
  const counters: ProviderCounters = {
    grants: {},
    refreshTokenReuse: 0,
    reuseIntervalGrants: 0,
    refreshesByFamily: {},
    revokedFamilies: 0,
    grantErrors: {},
    slowDowns: 0,
    devicePollTimes: [],
    jwksFetches: 0,
  };
  const { default: Provider, errors } = await quietly(() => import('oidc-provider'));
  const logins = new Map<string, string>(); // sub -> login name, for claims
  const extendedGrants = new Set<string>(); // grants whose login asked for extended_lifetime
  const rotations = new RotationLog(); // for the rotation overlap period

  // The issuer must be known before the provider exists: listen first, mount the handler after.
  let handler: RequestListener | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  const port = await listen(server, options.port ?? 0);
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}/`;

  const newKey = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { privateKey, kid: randomBytes(8).toString('hex') };
  };
  const keys = options.spareSigningKey ? [newKey(), newKey()] : [newKey()];
  const jwkOf = (key: { privateKey: KeyObject; kid: string }, part: KeyObject) => ({
    ...part.export({ format: 'jwk' }),
    kid: key.kid,
    alg: 'RS256',
    use: 'sig',
  });
  // oidc-provider publishes every key it holds, so the JWKS is served here: the spare key stays
  // unpublished until the rotation. Access tokens name their key by kid (getResourceServerInfo);
  // ID tokens take the first key, which stays published.
  let signingKid = (keys[0] as (typeof keys)[number]).kid;
  let published = keys.slice(0, 1);

  // Extended lifetime: asked at /authorize (marked at consent) or by the backend's code exchange
  // (`extended_lifetime=true`, the Python client's headless flag); refreshes of that grant keep it.
  const accessTtl = (ctx: KoaContextWithOIDC, token: { grantId?: string }) => {
    const body = (ctx?.oidc as { body?: Record<string, unknown> } | undefined)?.body;
    if (token.grantId && body?.grant_type === 'authorization_code' && body.extended_lifetime === 'true') {
      extendedGrants.add(token.grantId);
    }
    return token.grantId && extendedGrants.has(token.grantId) ? settings.extendedAccessTokenTtl : settings.accessTokenTtl;
  };

  const provider = await quietly(
    () =>
      new Provider(issuer, {
        clients: [
          {
            client_id: options.client.id,
            client_secret: options.client.secret,
            application_type: 'native', // what permits http loopback redirect URIs
            redirect_uris: options.client.redirectUris,
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
          {
            // Auth0 grants the device flow only to a native application without a secret.
            client_id: options.deviceClient.id,
            application_type: 'native',
            redirect_uris: [],
            grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
            response_types: [],
            token_endpoint_auth_method: 'none',
          },
        ],
        jwks: { keys: keys.map((key) => jwkOf(key, key.privateKey) as never) },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        // Required of public clients only: the deployed backend redeems codes without a verifier. A
        // challenge sent to /authorize is still verified at the token endpoint.
        pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
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
                jwt: { sign: { alg: 'RS256', kid: signingKid } },
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
      }),
  );
  provider.on('grant.success', (ctx) => {
    const grantType = String(ctx.oidc.params?.grant_type);
    counters.grants[grantType] = (counters.grants[grantType] ?? 0) + 1;
    const family = (ctx.oidc.entities as { RefreshToken?: { grantId?: string } }).RefreshToken?.grantId;
    if (grantType === 'refresh_token' && family) {
      counters.refreshesByFamily[family] = (counters.refreshesByFamily[family] ?? 0) + 1;
      // Remembered whatever the overlap period is now, so that a test may set one at any time.
      const issued = (ctx.body as { refresh_token?: unknown } | undefined)?.refresh_token;
      if (typeof issued === 'string') rotations.rotated(family, String(ctx.oidc.params?.refresh_token), issued);
    }
  });
  provider.on('grant.revoked', (_ctx, grantId: string) => {
    counters.revokedFamilies += 1;
    rotations.forget(grantId);
  });
  provider.on('grant.error', (_ctx, error) => {
    const code = (error as { error?: string }).error ?? 'unknown';
    counters.grantErrors[code] = (counters.grantErrors[code] ?? 0) + 1;
    if ((error as { error_detail?: string }).error_detail === 'refresh token already used') counters.refreshTokenReuse += 1;
  });

  const deviceLayer = withAuth0Device(
    provider.callback(),
    settings,
    () => {
      counters.slowDowns += 1;
    },
    (at) => counters.devicePollTimes.push(at),
  );
  const callback = withRefreshOverlap(deviceLayer, settings, rotations, () => {
    counters.reuseIntervalGrants += 1;
  });
  handler = (req, res) => {
    const url = req.url ?? '/';
    if (url.split('?')[0] === '/.well-known/jwks.json') {
      counters.jwksFetches += 1;
      const body = { keys: published.map((key) => jwkOf(key, createPublicKey(key.privateKey))) };
      res.writeHead(200, { 'content-type': 'application/jwk-set+json; charset=utf-8' }).end(JSON.stringify(body));
      return;
    }
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
    rotateKeys: () => {
      const next = keys[published.length];
      if (!next) throw new Error('No spare signing key: start the provider with spareSigningKey (once per provider).');
      published = keys.slice(0, published.length + 1);
      signingKid = next.kid;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
