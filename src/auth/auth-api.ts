/**
 * The token endpoints of the backend the TokenManager needs: `/auth/refresh-token` and
 * `/auth/validate`, sent through the client's HttpClient (pool, retries, breaker; a retried
 * refresh is answered once thanks to its Idempotency-Key). Every response teaches the clock the
 * backend's time (its `Date` header).
 */
import { z } from 'zod';
import {
  AuthenticationError,
  BadRequestError,
  NetworkError,
  ResponseValidationError,
  ServerError,
} from '../errors/mesh-error.js';
import type { HttpClient, HttpResponse } from '../http/http-client.js';
import type { SkewClock } from './clock.js';
import { type TokenReply, tokenReplySchema } from './token-set.js';

/** Code of the `AuthenticationError` raised when the refresh token is revoked, expired or reused. */
export const INVALID_GRANT = 'invalid_grant';

export interface AuthApiOptions {
  http: HttpClient;
  clock: SkewClock;
  /** Per-attempt bound, ms. @default the HttpClient's */
  timeout?: number;
}

/** An OAuth error body (RFC 6749 §5.2), or the contract's `{error, message}`. */
export const oauthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
  message: z.string().optional(),
});
const validateOkSchema = z.object({
  valid: z.literal(true),
  sub: z.string().optional(),
  exp: z.number().nullable().optional(),
  scope: z.string().optional(),
});

export type BackendValidation =
  | { kind: 'valid'; sub?: string; exp?: number | null; scope?: string }
  | { kind: 'invalid'; reason: string }
  /** 404/405/501 or a network failure: the deployment cannot say; validate locally. */
  | { kind: 'unavailable'; reason: string };

export class AuthApi {
  constructor(private readonly options: AuthApiOptions) {}

  async #send(
    method: 'GET' | 'POST',
    path: string,
    init: { body?: unknown; bearer?: string; signal?: AbortSignal },
  ): Promise<HttpResponse> {
    const { clock, http, timeout } = this.options;
    const sentAt = clock.localNow();
    const response = await http.send({ method, path, body: init.body, token: init.bearer, signal: init.signal, timeout });
    const date = response.headers.date;
    clock.learn(Array.isArray(date) ? date[0] : date, sentAt, clock.localNow());
    return response;
  }

  /**
   * Exchanges a refresh token for a new token set.
   * @throws AuthenticationError with code `invalid_grant` when the refresh token is revoked, expired or reused.
   */
  async refresh(refreshToken: string, options: { extendedLifetime?: boolean; signal?: AbortSignal } = {}): Promise<TokenReply> {
    const body: Record<string, unknown> = { refresh_token: refreshToken };
    if (options.extendedLifetime) body.extended_lifetime = true;
    const response = await this.#send('POST', '/auth/refresh-token', { body, signal: options.signal });
    const { status, json, requestId } = response;
    if (status === 200) {
      const parsed = tokenReplySchema.safeParse(json);
      if (parsed.success) return parsed.data;
      throw new ResponseValidationError('The backend answered the refresh with a body that is not a token set.', {
        status,
        requestId,
      });
    }
    const failure = oauthErrorSchema.safeParse(json);
    const code = failure.success ? failure.data.error : undefined;
    const description = failure.success ? (failure.data.error_description ?? failure.data.message) : undefined;
    if ((status === 400 || status === 401 || status === 403) && code === INVALID_GRANT) {
      throw new AuthenticationError(`The refresh token was refused: ${description ?? INVALID_GRANT}.`, {
        code: INVALID_GRANT,
        status,
        requestId,
        hint: 'Log in again with `npx mesh-auth`.',
      });
    }
    if (status >= 500) throw new ServerError(`The backend failed to refresh the token (HTTP ${status}).`, { status, requestId });
    throw new BadRequestError(`The backend refused the refresh (HTTP ${status}${code ? `, ${code}` : ''}).`, {
      status,
      requestId,
    });
  }

  /** Asks the backend whether a token is good; `unavailable` when it cannot say. */
  async validate(token: string, signal?: AbortSignal): Promise<BackendValidation> {
    let response: HttpResponse;
    try {
      response = await this.#send('GET', '/auth/validate', { bearer: token, signal });
    } catch (error) {
      if (error instanceof NetworkError) return { kind: 'unavailable', reason: error.message };
      throw error;
    }
    const { status, json } = response;
    if (status === 404 || status === 405 || status === 501)
      return { kind: 'unavailable', reason: `the backend has no /auth/validate (HTTP ${status})` };
    if (status === 200) {
      const parsed = validateOkSchema.safeParse(json);
      if (parsed.success) return { kind: 'valid', sub: parsed.data.sub, exp: parsed.data.exp, scope: parsed.data.scope };
      return { kind: 'unavailable', reason: 'the backend answered /auth/validate with an unexpected body' };
    }
    if (status === 401 || status === 403) return { kind: 'invalid', reason: 'the backend says the token is not valid' };
    return { kind: 'unavailable', reason: `the backend answered /auth/validate with HTTP ${status}` };
  }
}
