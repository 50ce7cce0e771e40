/**
 * Logs a test user in through the reference backend as a client of contract v2 does: auth URL
 * from `POST /auth/get-auth-url`, provider login over HTTP, `POST /auth/exchange-token`. PKCE
 * exactly when the backend advertises `pkce` (or when a test asks).
 */
import { createHash, randomBytes } from 'node:crypto';
import { approveDeviceOverHttp, type DriveOptions, loginOverHttp } from '../../dev/login-driver.js';
import { DEVICE_CODE_GRANT } from '../../dev/provider/provider.js';
import type { Stack } from '../../dev/stack.js';

export const REDIRECT_URI = 'http://localhost:8000/callback';
export const SCOPE = 'openid profile email offline_access';

export interface Pkce {
  verifier: string;
  challenge: string;
  state: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return {
    verifier,
    challenge: createHash('sha256').update(verifier).digest('base64url'),
    state: randomBytes(16).toString('base64url'),
  };
}

export interface LoginOptions extends DriveOptions {
  /** Send a PKCE challenge and verifier. @default whether the backend advertises `pkce` */
  pkce?: boolean;
}

const usesPkce = (stack: Stack, options: LoginOptions) => options.pkce ?? stack.backend.has('pkce');

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: response.status, json, headers: response.headers, text };
}

/** `POST /auth/get-auth-url`; the challenge goes in the body when `withChallenge`. */
export async function authUrlFor(stack: Stack, pkce: Pkce, withChallenge: boolean, extra: Record<string, unknown> = {}) {
  const body: Record<string, unknown> = { redirect_uri: REDIRECT_URI, scope: SCOPE, state: pkce.state, ...extra };
  if (withChallenge) Object.assign(body, { code_challenge: pkce.challenge, code_challenge_method: 'S256' });
  const { status, json } = await postJson(`${stack.apiUrl}/auth/get-auth-url`, body);
  if (status !== 200) throw new Error(`get-auth-url answered ${status}`);
  return json.auth_url as string;
}

/** A code for the test user, the PKCE values (used or not) and the callback URL. */
export async function codeFor(stack: Stack, options: LoginOptions = {}, extra: Record<string, unknown> = {}) {
  const pkce = newPkce();
  const withPkce = usesPkce(stack, options);
  const callback = await loginOverHttp(await authUrlFor(stack, pkce, withPkce, extra), REDIRECT_URI, options);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`login ended without a code: ${callback.searchParams.get('error')}`);
  return { code, pkce, callback, withPkce };
}

export interface TokenSetReply {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** Logs in and exchanges the code: a fresh token set for `login` (a "web" token set). */
export async function loginTokens(stack: Stack, options: LoginOptions = {}): Promise<TokenSetReply> {
  const { code, pkce, withPkce } = await codeFor(stack, options);
  const body: Record<string, unknown> = { code, redirect_uri: REDIRECT_URI };
  if (withPkce) body.code_verifier = pkce.verifier;
  const { status, json } = await postJson(`${stack.apiUrl}/auth/exchange-token`, body);
  if (status !== 200) throw new Error(`exchange answered ${status}: ${JSON.stringify(json.error)}`);
  return json as unknown as TokenSetReply;
}

/** Logs in and registers the user (`GET /auth/profile`), as a client does after every login. */
export async function registeredTokens(stack: Stack, options: LoginOptions = {}) {
  const tokens = await loginTokens(stack, options);
  const response = await fetch(`${stack.apiUrl}/auth/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  if (response.status !== 200) throw new Error(`profile answered ${response.status}`);
  const json = (await response.json()) as { id?: string; profile?: { id: string } };
  return { tokens, userId: (json.id ?? json.profile?.id) as string };
}

async function postForm(url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

/** `POST <provider>/oauth/device/code` as the native app, as the deployed device flow starts (straight at Auth0). */
export function startDeviceAuthorization(stack: Stack, clientId = stack.deviceClientId) {
  return postForm(`${stack.provider.origin}/oauth/device/code`, {
    client_id: clientId,
    scope: SCOPE,
    audience: stack.auth0.audience,
  });
}

/** One poll of `POST <provider>/oauth/token` with the device-code grant, as the native app. */
export function pollDeviceToken(stack: Stack, deviceCode: string) {
  return postForm(`${stack.provider.origin}/oauth/token`, {
    grant_type: DEVICE_CODE_GRANT,
    device_code: deviceCode,
    client_id: stack.deviceClientId,
  });
}

/** A device-flow token set (the native app's: refresh it with `client_type: "device"`). */
export async function deviceFlowTokens(stack: Stack, options: DriveOptions = {}): Promise<TokenSetReply> {
  const started = await startDeviceAuthorization(stack);
  if (started.status !== 200) throw new Error(`device authorization answered ${started.status}`);
  await approveDeviceOverHttp(started.json.verification_uri_complete as string, options);
  const polled = await pollDeviceToken(stack, started.json.device_code as string); // the first poll is never too early
  if (polled.status !== 200) throw new Error(`device token poll answered ${polled.status}: ${String(polled.json.error)}`);
  return polled.json as unknown as TokenSetReply;
}

export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
