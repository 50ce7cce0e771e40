/** `/auth/*` of backend-contract.md: config, auth URL, exchange, refresh, validate, profile, device flow. */
import { recordSecrets } from '../canaries.js';
import { DEVICE_CODE_GRANT } from '../provider/provider.js';
import type { Backend, Route } from './context.js';
import { bearerOf, HttpError, optionalBoolean, type Reply, requireString } from './http.js';

const SCOPE = 'openid profile email offline_access';

function absent(): HttpError {
  return new HttpError(404, 'not_found', 'Not found.');
}

/** Calls one of the provider's endpoints as the backend's confidential client. */
async function callProvider(backend: Backend, path: string, form: Record<string, string>) {
  const { authority, settings } = backend;
  // Unreachable: a real connection to a closed port, so the failure path is the real one.
  const origin = settings.auth0Unreachable ? 'http://127.0.0.1:1' : authority.origin;
  const basic = Buffer.from(`${encodeURIComponent(authority.clientId)}:${encodeURIComponent(authority.clientSecret)}`);
  let response: Response;
  try {
    response = await fetch(new URL(path, origin), {
      method: 'POST',
      headers: { authorization: `Basic ${basic.toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new HttpError(502, 'bad_gateway', 'The identity provider is unreachable; try again shortly.');
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { ok: response.ok, status: response.status, json };
}

function oauthFailure(json: Record<string, unknown>, status = 400): HttpError {
  const error = typeof json.error === 'string' ? json.error : 'invalid_grant';
  const description = typeof json.error_description === 'string' ? json.error_description : 'The grant was refused.';
  return new HttpError(status, error, description);
}

/** The contract's token set, learning the user's email and name from the ID token on the way. */
function tokenSetReply(backend: Backend, json: Record<string, unknown>): Reply {
  recordSecrets(json.access_token, json.refresh_token, json.id_token);
  const idToken = typeof json.id_token === 'string' ? json.id_token : undefined;
  if (idToken) {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, string>;
    if (claims.sub) backend.state.knownClaims.set(claims.sub, { email: claims.email, name: claims.name });
  }
  const body: Record<string, unknown> = {
    access_token: json.access_token,
    token_type: 'Bearer',
    expires_in: json.expires_in,
  };
  for (const field of ['refresh_token', 'id_token', 'scope'] as const) if (json[field]) body[field] = json[field];
  return { status: 200, body };
}

export const authRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/auth/config',
    handler: async (_r, backend) => {
      if (!backend.settings.configEndpoint) throw absent();
      const { origin, clientId, audience } = backend.authority;
      return { status: 200, body: { domain: origin, client_id: clientId, audience, scope: SCOPE } };
    },
  },
  {
    method: 'GET',
    pattern: '/auth/get-auth-url',
    oauth: true,
    handler: async ({ url }, backend) => {
      if (!backend.settings.authUrlEndpoint) throw absent();
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      const state = q.get('state') ?? '';
      const challenge = q.get('code_challenge') ?? '';
      if (!/^https?:\/\/[^\s]+$/.test(redirectUri))
        throw new HttpError(400, 'invalid_request', 'redirect_uri must be an http(s) URL.');
      if (state === '') throw new HttpError(400, 'invalid_request', 'state is required.');
      if (!/^[A-Za-z0-9_-]{43,128}$/.test(challenge)) {
        throw new HttpError(400, 'invalid_request', 'code_challenge must be 43-128 base64url characters (RFC 7636 §4.2).');
      }
      if (q.get('code_challenge_method') !== 'S256')
        throw new HttpError(400, 'invalid_request', 'code_challenge_method must be S256.');
      const extended = q.get('extended_lifetime');
      if (extended !== null && extended !== 'true' && extended !== 'false') {
        throw new HttpError(400, 'invalid_request', 'extended_lifetime must be true or false.');
      }
      const authUrl = new URL('/authorize', backend.authority.origin);
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: backend.authority.clientId,
        redirect_uri: redirectUri,
        scope: SCOPE,
        audience: backend.authority.audience,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      if (extended === 'true') params.extended_lifetime = 'true';
      for (const [key, value] of Object.entries(params)) authUrl.searchParams.set(key, value);
      return { status: 200, body: { auth_url: authUrl.href } };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/exchange-token',
    oauth: true,
    handler: async ({ body }, backend) => {
      backend.counters.exchanges += 1;
      recordSecrets((body as Record<string, unknown>)?.code, (body as Record<string, unknown>)?.code_verifier);
      const form = {
        grant_type: 'authorization_code',
        code: requireString(body, 'code'),
        redirect_uri: requireString(body, 'redirect_uri'),
        code_verifier: requireString(body, 'code_verifier'),
      };
      optionalBoolean(body, 'extended_lifetime'); // decided at /authorize; accepted here per contract
      const result = await callProvider(backend, '/oauth/token', form);
      if (!result.ok) throw oauthFailure(result.json);
      return tokenSetReply(backend, result.json);
    },
  },
  {
    method: 'POST',
    pattern: '/auth/refresh-token',
    oauth: true,
    handler: async ({ body }, backend) => {
      backend.counters.refreshes += 1;
      const refreshToken = requireString(body, 'refresh_token');
      recordSecrets(refreshToken);
      optionalBoolean(body, 'extended_lifetime');
      const result = await callProvider(backend, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
      if (!result.ok) {
        backend.counters.refreshFailures += 1;
        const invalidGrant = result.json.error === 'invalid_grant';
        throw oauthFailure(result.json, invalidGrant ? backend.settings.refreshInvalidGrantStatus : 400);
      }
      return tokenSetReply(backend, result.json);
    },
  },
  {
    method: 'GET',
    pattern: '/auth/validate',
    handler: async ({ req }, backend) => {
      if (!backend.settings.validateEndpoint) throw absent();
      backend.counters.validations += 1;
      const principal = await backend.authenticate(bearerOf(req));
      if (!principal) return { status: 401, body: { valid: false, error: 'invalid_token' } };
      return { status: 200, body: { valid: true, sub: principal.sub, exp: principal.exp, scope: principal.scope } };
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
      return { status: 200, body: { profile: { id: user.id, email: user.email, name: user.name, credits: user.credits } } };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/device-code',
    oauth: true,
    handler: async ({ body }, backend) => {
      if (!backend.settings.deviceFlow) throw absent();
      backend.counters.deviceCodes += 1;
      const form: Record<string, string> = { scope: SCOPE, audience: backend.authority.audience };
      if (optionalBoolean(body, 'extended_lifetime')) form.extended_lifetime = 'true';
      const result = await callProvider(backend, '/oauth/device/code', form);
      if (!result.ok) throw oauthFailure(result.json, 502);
      const { device_code, user_code, verification_uri, verification_uri_complete, expires_in } = result.json;
      backend.state.devicePolls.set(String(device_code), { at: Date.now(), slowDowns: 0 });
      recordSecrets(device_code);
      return {
        status: 200,
        body: {
          device_code,
          user_code,
          verification_uri,
          verification_uri_complete,
          expires_in,
          interval: backend.settings.deviceInterval,
        },
      };
    },
  },
  {
    method: 'POST',
    pattern: '/auth/token-status',
    oauth: true,
    handler: async ({ body }, backend) => {
      backend.counters.tokenStatusPolls += 1;
      const deviceCode = requireString(body, 'device_code');
      // oidc-provider does not enforce a poll interval; Auth0 does (RFC 8628 §3.5): the interval
      // counts from the device authorization, and each slow_down adds 5 s to what the client owes.
      const polls = backend.state.devicePolls;
      const now = Date.now();
      const last = polls.get(deviceCode);
      if (last) {
        const { deviceInterval, devicePollFloor } = backend.settings;
        const owed = Math.max(deviceInterval + 5 * last.slowDowns, devicePollFloor) * 1000;
        if (now - last.at < owed) {
          polls.set(deviceCode, { at: now, slowDowns: last.slowDowns + 1 });
          throw new HttpError(
            400,
            'slow_down',
            `Polling too fast: wait ${deviceInterval + 5 * (last.slowDowns + 1)} s between polls.`,
          );
        }
      }
      polls.set(deviceCode, { at: now, slowDowns: last?.slowDowns ?? 0 });
      const result = await callProvider(backend, '/oauth/token', { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode });
      if (!result.ok) throw oauthFailure(result.json);
      polls.delete(deviceCode);
      return tokenSetReply(backend, result.json);
    },
  },
];
