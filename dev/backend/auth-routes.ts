/**
 * `/auth/*` of backend-contract.md v2: part A (config, auth URL, exchange, refresh, validate,
 * profile) as the deployed backend serves them, and part B's `pkce` and `device_flow` when
 * advertised.
 */
import { recordSecrets } from '../canaries.js';
import { DEVICE_CODE_GRANT } from '../provider/provider.js';
import type { Backend, Route } from './context.js';
import { bearerOf, fields, HttpError, optionalBoolean, type Reply, requireString } from './http.js';
import { sha256 } from './state.js';

const SCOPE = 'openid profile email offline_access';

/** Which of the provider's applications a token call is made as: Auth0 binds refresh tokens to one. */
type AppKind = 'web' | 'device';

/** Calls one of the provider's endpoints as the backend's confidential app, or as the public device app. */
async function callProvider(backend: Backend, path: string, form: Record<string, string>, as: AppKind = 'web') {
  const { authority, settings } = backend;
  // Unreachable: a real connection to a closed port, so the failure path is the real one.
  const origin = settings.auth0Unreachable ? 'http://127.0.0.1:1' : authority.origin;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (as === 'web') {
    const basic = `${encodeURIComponent(authority.clientId)}:${encodeURIComponent(authority.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  } else {
    body.set('client_id', authority.deviceClientId);
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, origin), { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new HttpError(502, 'The identity provider is unreachable; try again shortly.');
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { ok: response.ok, status: response.status, json };
}

function oauthFailure(json: Record<string, unknown>, status: number): HttpError {
  const error = typeof json.error === 'string' ? json.error : 'invalid_grant';
  const description = typeof json.error_description === 'string' ? json.error_description : 'The grant was refused.';
  return new HttpError(status, description, error);
}

/** The contract's token set, learning the user's email and name from the ID token on the way. */
function tokenSetReply(backend: Backend, json: Record<string, unknown>, omitRefreshToken = false): Reply {
  recordSecrets(json.access_token, json.refresh_token, json.id_token);
  const idToken = typeof json.id_token === 'string' ? json.id_token : undefined;
  if (idToken) {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, string>;
    if (claims.sub) backend.state.knownClaims.set(claims.sub, { email: claims.email, name: claims.name });
  }
  const body: Record<string, unknown> = { access_token: json.access_token, token_type: 'Bearer', expires_in: json.expires_in };
  for (const field of ['refresh_token', 'id_token', 'scope'] as const) if (json[field]) body[field] = json[field];
  if (omitRefreshToken) delete body.refresh_token;
  return { status: 200, body };
}

/** A PKCE challenge from a get-auth-url body (`pkce` capability), checked as RFC 7636 §4.2 asks. */
function challengeOf(body: unknown): { code_challenge: string; code_challenge_method: string } | undefined {
  const { code_challenge: challenge, code_challenge_method: method } = fields(body);
  if (challenge === undefined || challenge === null) return undefined;
  if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{43,128}$/.test(challenge)) {
    throw new HttpError(400, 'code_challenge must be 43-128 base64url characters (RFC 7636 §4.2).', 'invalid_request');
  }
  if (method !== 'S256') throw new HttpError(400, 'code_challenge_method must be S256.', 'invalid_request');
  return { code_challenge: challenge, code_challenge_method: 'S256' };
}

const deviceFlow = (backend: Backend) => backend.has('device_flow');

export const authRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/auth/config',
    when: (backend) => backend.settings.configEndpoint,
    handler: async ({ url }, backend) => {
      const { origin, clientId, deviceClientId, audience } = backend.authority;
      const device = url.searchParams.get('flow') === 'device';
      // `domain`: the provider's full loopback origin (contract ambiguity 11), as a client must accept.
      const body: Record<string, unknown> = { domain: origin, client_id: device ? deviceClientId : clientId, audience };
      if (backend.settings.capabilities.length > 0) body.capabilities = [...backend.settings.capabilities];
      return { status: 200, body };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/get-auth-url',
    when: (backend) => backend.settings.authUrlEndpoint,
    handler: async ({ body }, backend) => {
      const redirectUri = requireString(body, 'redirect_uri');
      if (!/^https?:\/\/\S+$/.test(redirectUri))
        throw new HttpError(400, 'redirect_uri must be an http(s) URL.', 'invalid_request');
      const state = requireString(body, 'state');
      const scope = typeof fields(body).scope === 'string' && fields(body).scope !== '' ? String(fields(body).scope) : SCOPE;
      const authUrl = new URL('/authorize', backend.authority.origin);
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: backend.authority.clientId,
        redirect_uri: redirectUri,
        scope,
        audience: backend.authority.audience,
        state,
      };
      // The deployed backend forwards no challenge: without `pkce` one in the body is ignored.
      if (backend.has('pkce')) Object.assign(params, challengeOf(body));
      if (optionalBoolean(body, 'extended_lifetime')) params.extended_lifetime = 'true';
      for (const [key, value] of Object.entries(params)) authUrl.searchParams.set(key, value);
      return { status: 200, body: { auth_url: authUrl.href } };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/exchange-token',
    handler: async ({ body }, backend) => {
      backend.counters.exchanges += 1;
      const { code_verifier: verifier } = fields(body);
      recordSecrets(fields(body).code, verifier);
      const form: Record<string, string> = {
        grant_type: 'authorization_code',
        code: requireString(body, 'code'),
        redirect_uri: requireString(body, 'redirect_uri'),
      };
      // Without `pkce` the verifier is dropped, as the deployed backend drops it.
      if (backend.has('pkce') && typeof verifier === 'string' && verifier !== '') form.code_verifier = verifier;
      if (optionalBoolean(body, 'extended_lifetime')) form.extended_lifetime = 'true';
      const result = await callProvider(backend, '/oauth/token', form);
      if (!result.ok) throw oauthFailure(result.json, 400);
      return tokenSetReply(backend, result.json);
    },
  },
  {
    method: 'POST',
    pattern: '/auth/refresh-token',
    // Contract part B: replays are keyed by the refresh token and the key. A client that saved the
    // key, sent, and died before saving the reply resends and gets the same new set; the same key
    // with another refresh token is another refresh, never someone else's tokens.
    idempotencyCaller: (body) => `refresh_token:${sha256(String(fields(body).refresh_token ?? ''))}`,
    onReplay: (backend) => {
      backend.counters.refreshReplays += 1;
    },
    handler: async ({ body }, backend) => {
      backend.counters.refreshes += 1;
      const refreshToken = requireString(body, 'refresh_token');
      recordSecrets(refreshToken);
      const clientType = fields(body).client_type ?? 'web';
      if (clientType !== 'web' && clientType !== 'device') {
        throw new HttpError(400, 'client_type must be "device" or "web".', 'invalid_request');
      }
      backend.counters.refreshClientTypes[clientType] = (backend.counters.refreshClientTypes[clientType] ?? 0) + 1;
      // A backend that sends no new refresh token keeps the client's one working: it stands for
      // the provider's newest (the provider rotates; the client never sees the rotation).
      const aliases = backend.state.refreshAliases;
      const form = { grant_type: 'refresh_token', refresh_token: aliases.get(refreshToken) ?? refreshToken };
      // `device` refreshes as the native app, `web` as the confidential one: a token refreshed as
      // the other application's is refused, as Auth0 refuses it.
      const result = await callProvider(backend, '/oauth/token', form, clientType);
      if (!result.ok) {
        backend.counters.refreshFailures += 1;
        throw oauthFailure(result.json, backend.settings.refreshFailureStatus);
      }
      const omit = backend.settings.refreshOmitsRefreshToken && typeof result.json.refresh_token === 'string';
      if (omit) aliases.set(refreshToken, result.json.refresh_token as string);
      return tokenSetReply(backend, result.json, omit);
    },
  },
  {
    method: 'GET',
    pattern: '/auth/validate',
    when: (backend) => backend.settings.validateEndpoint,
    handler: async ({ req }, backend) => {
      backend.counters.validations += 1;
      // Status only; JWTs only (the Python client never sends an API key here).
      const principal = await backend.verifyJwt(bearerOf(req));
      if (!principal) throw new HttpError(backend.settings.validateRejectStatus, 'Invalid or expired token.');
      return { status: 200, body: { valid: true } };
    },
  },
  {
    method: 'GET',
    pattern: '/auth/profile',
    auth: true,
    handler: async ({ principal }, backend) => {
      backend.counters.profiles += 1;
      const user = backend.state.user((principal as { sub: string }).sub);
      user.registered = true;
      const profile = { id: user.id, credits: user.credits, email: user.email, name: user.name };
      return { status: 200, body: backend.settings.profileShape === 'flat' ? profile : { profile } };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/device-code',
    when: deviceFlow,
    handler: async ({ body }, backend) => {
      backend.counters.deviceCodes += 1;
      const form: Record<string, string> = { scope: SCOPE, audience: backend.authority.audience };
      if (optionalBoolean(body, 'extended_lifetime')) form.extended_lifetime = 'true';
      const result = await callProvider(backend, '/oauth/device/code', form, 'device');
      if (!result.ok) throw oauthFailure(result.json, 502);
      const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = result.json;
      recordSecrets(device_code);
      return {
        status: 200,
        body: { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval: interval ?? 5 },
      };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/token-status',
    when: deviceFlow,
    handler: async ({ body }, backend) => {
      backend.counters.tokenStatusPolls += 1;
      const deviceCode = requireString(body, 'device_code');
      // The provider paces polls and answers as Auth0 (403/429); part B answers 400 + the name.
      const form = { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode };
      const result = await callProvider(backend, '/oauth/token', form, 'device');
      if (!result.ok) {
        const error = typeof result.json.error === 'string' ? result.json.error : 'invalid_grant';
        throw new HttpError(400, error);
      }
      return tokenSetReply(backend, result.json);
    },
  },
];
