/** Logs a test user in through the reference backend as the SDK will: PKCE, auth URL, provider login, exchange. */
import { createHash, randomBytes } from 'node:crypto';
import { type DriveOptions, loginOverHttp } from '../../dev/login-driver.js';
import type { Stack } from '../../dev/stack.js';

export const REDIRECT_URI = 'http://localhost:8000/callback';

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

export async function authUrlFor(stack: Stack, pkce: Pkce, extra: Record<string, string> = {}): Promise<string> {
  const query = new URLSearchParams({
    redirect_uri: REDIRECT_URI,
    state: pkce.state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  const response = await fetch(`${stack.apiUrl}/auth/get-auth-url?${query}`);
  if (response.status !== 200) throw new Error(`get-auth-url answered ${response.status}`);
  return ((await response.json()) as { auth_url: string }).auth_url;
}

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

/** A code for the test user, and the PKCE values it belongs to. */
export async function codeFor(stack: Stack, options: DriveOptions = {}, extra: Record<string, string> = {}) {
  const pkce = newPkce();
  const callback = await loginOverHttp(await authUrlFor(stack, pkce, extra), REDIRECT_URI, options);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`login ended without a code: ${callback.searchParams.get('error')}`);
  return { code, pkce, callback };
}

export interface TokenSetReply {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** Logs in and exchanges the code: a fresh token set for `login`. */
export async function loginTokens(stack: Stack, options: DriveOptions = {}): Promise<TokenSetReply> {
  const { code, pkce } = await codeFor(stack, options);
  const { status, json } = await postJson(`${stack.apiUrl}/auth/exchange-token`, {
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: pkce.verifier,
  });
  if (status !== 200) throw new Error(`exchange answered ${status}: ${String(json.error)}`);
  return json as unknown as TokenSetReply;
}

export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
