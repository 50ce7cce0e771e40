/**
 * The token endpoints of the backend the TokenManager needs: `/auth/refresh-token` and
 * `/auth/validate`. Every response teaches the clock the backend's time (its `Date` header).
 * The HTTP layer for `/api/v1/*` is separate (src/http).
 */
import { randomUUID } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import { z } from 'zod';
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  MeshError,
  NetworkError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
} from '../errors/mesh-error.js';
import type { SkewClock } from './clock.js';
import { type TokenReply, tokenReplySchema } from './token-set.js';

/** Code of the `AuthenticationError` raised when the refresh token is revoked, expired or reused. */
export const INVALID_GRANT = 'invalid_grant';

export interface AuthApiOptions {
  apiUrl: string;
  clock: SkewClock;
  /** Per-request bound, ms. */
  timeout: number;
  dispatcher?: Dispatcher;
}

interface RawResponse {
  status: number;
  json: unknown;
  requestId: string | undefined;
}

const oauthErrorSchema = z.object({
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
  ): Promise<RawResponse> {
    const url = `${this.options.apiUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      // Lets a retried POST be answered from the first attempt instead of rotating twice.
      headers['idempotency-key'] = randomUUID();
    }
    const timeout = AbortSignal.timeout(this.options.timeout);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const { clock } = this.options;
    const sentAt = clock.localNow();
    try {
      const response = await request(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
        dispatcher: this.options.dispatcher,
      });
      const text = await response.body.text();
      clock.learn(response.headers.date as string | undefined, sentAt, clock.localNow());
      const requestId = response.headers['x-request-id'] as string | undefined;
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined; // an HTML page from a proxy: each caller judges the status without a body
      }
      return { status: response.statusCode, json, requestId };
    } catch (error) {
      if (error instanceof MeshError) throw error;
      if (init.signal?.aborted) throw new AbortError(`${method} ${path} was aborted.`, { cause: error });
      if (timeout.aborted) {
        throw new TimeoutError(`${method} ${path} did not answer within ${this.options.timeout} ms.`, { cause: error });
      }
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new NetworkError(`Could not reach the Mesh backend at ${this.options.apiUrl} (${reason}).`, {
        cause: error,
        hint: 'Check your connection and MESH_API_URL.',
      });
    }
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
      throw new AuthenticationError(`The refresh token was refused: ${description ?? 'invalid_grant'}.`, {
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
    let response: RawResponse;
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
