/**
 * The backend's login endpoints (backend-contract.md, "Auth endpoints"): `/auth/config`,
 * `/auth/get-auth-url`, `/auth/exchange-token`, `/auth/device-code`, `/auth/token-status`.
 * The SDK never talks to Auth0's token endpoint: the backend holds the client secret.
 */
import { z } from 'zod';
import { oauthErrorSchema as oauthError } from '../auth/auth-api.js';
import { type TokenReply, tokenReplySchema } from '../auth/token-set.js';
import { LoginError, ResponseValidationError } from '../errors/mesh-error.js';
import type { HttpClient, HttpResponse } from '../http/http-client.js';

const configReply = z.object({ domain: z.string(), client_id: z.string(), audience: z.string(), scope: z.string().optional() });
const authUrlReply = z.object({ auth_url: z.string().url() });
const deviceCodeReply = z.object({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.string().optional(),
  expires_in: z.number().positive(),
  interval: z.number().positive().optional(),
});

export type BackendAuthConfig = z.infer<typeof configReply>;
export type DeviceCode = z.infer<typeof deviceCodeReply>;

/** A `/auth/token-status` answer: tokens, or the OAuth error code (authorization_pending, slow_down, ...). */
export type DeviceStatus = { tokens: TokenReply } | { error: string; description?: string };

function parse<T>(schema: z.ZodType<T>, response: HttpResponse, what: string): T {
  const parsed = schema.safeParse(response.json);
  if (!parsed.success) {
    throw new ResponseValidationError(`${what}: the backend answered with a body that does not match the contract.`, {
      status: response.status,
      requestId: response.requestId,
    });
  }
  return parsed.data;
}

function failure(response: HttpResponse, what: string): LoginError {
  const body = oauthError.safeParse(response.json);
  const reason = body.success ? (body.data.error_description ?? body.data.message ?? body.data.error) : `HTTP ${response.status}`;
  return new LoginError(`${what} failed: ${reason}.`, {
    status: response.status,
    requestId: response.requestId,
    hint: 'Run `npx mesh-auth` to start a new login.',
  });
}

export class LoginApi {
  constructor(private readonly http: HttpClient) {}

  /** The backend's Auth0 settings, or undefined when it does not publish them (404). */
  async config(signal?: AbortSignal): Promise<BackendAuthConfig | undefined> {
    const response = await this.http.send({ method: 'GET', path: '/auth/config', signal });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw failure(response, 'Reading the login settings');
    return parse(configReply, response, 'Reading the login settings');
  }

  /** The authorize URL built by the backend, or undefined when it does not offer it (404). */
  async authUrl(params: Record<string, string>, signal?: AbortSignal): Promise<string | undefined> {
    const response = await this.http.send({ method: 'GET', path: `/auth/get-auth-url?${new URLSearchParams(params)}`, signal });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw failure(response, 'Preparing the login URL');
    return parse(authUrlReply, response, 'Preparing the login URL').auth_url;
  }

  async exchange(
    body: { code: string; redirect_uri: string; code_verifier: string; extended_lifetime?: boolean },
    signal?: AbortSignal,
  ) {
    const response = await this.http.send({ method: 'POST', path: '/auth/exchange-token', body, signal });
    if (response.status !== 200) throw failure(response, 'Exchanging the login code');
    return parse(tokenReplySchema, response, 'Exchanging the login code');
  }

  async deviceCode(extendedLifetime: boolean, signal?: AbortSignal): Promise<DeviceCode> {
    const body = extendedLifetime ? { extended_lifetime: true } : {};
    const response = await this.http.send({ method: 'POST', path: '/auth/device-code', body, signal });
    if (response.status === 404) {
      throw new LoginError('This Mesh deployment offers no device login.', {
        status: 404,
        requestId: response.requestId,
        hint: 'Log in on a machine with a browser and copy the tokens (`npx mesh-auth print-tokens`), or use MESH_API_KEY.',
      });
    }
    if (response.status !== 200) throw failure(response, 'Starting the device login');
    return parse(deviceCodeReply, response, 'Starting the device login');
  }

  async tokenStatus(deviceCode: string, signal?: AbortSignal): Promise<DeviceStatus> {
    const response = await this.http.send({
      method: 'POST',
      path: '/auth/token-status',
      body: { device_code: deviceCode },
      signal,
      maxRetries: 0,
    });
    if (response.status === 200) return { tokens: parse(tokenReplySchema, response, 'Finishing the device login') };
    const body = oauthError.safeParse(response.json);
    if (body.success && response.status < 500) return { error: body.data.error, description: body.data.error_description };
    throw failure(response, 'Checking the device login');
  }
}
