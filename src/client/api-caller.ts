/**
 * The call flow of every authenticated request: credentials, the user's registration through
 * `/auth/profile` once, one refresh after a 401 (or a 404 from `/api/v1/*` or `/auth/profile`,
 * which may mean "not logged in"), the token's story before a 404 is believed, status -> error,
 * body -> zod.
 */
import type { z } from 'zod';
import type { TokenValidator } from '../auth/validator.js';
import { AuthenticationError, ResponseValidationError } from '../errors/mesh-error.js';
import type { HttpClient, HttpRequest, HttpResponse, RateLimitInfo } from '../http/http-client.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import type { Credentials } from './credentials.js';
import { errorFromResponse } from './response-errors.js';
import { profileReply } from './schemas.js';

export type ApiRequest = Omit<HttpRequest, 'token'>;

export interface ApiCallerOptions {
  http: HttpClient;
  credentials: Credentials;
  validator: TokenValidator;
  logger?: InternalLogger;
}

const PROFILE_PATH = '/auth/profile';

/** Where the backend answers 404 to a bad credential (it hides these routes from strangers). */
function hidesFromStrangers(path: string): boolean {
  return path.startsWith('/api/v1/') || path === PROFILE_PATH;
}

export class ApiCaller {
  readonly #http: HttpClient;
  readonly #credentials: Credentials;
  readonly #validator: TokenValidator;
  readonly #logger: InternalLogger;
  #registered: Promise<unknown> | undefined;
  /** The rate-limit headers of the latest reply. */
  lastRateLimit: RateLimitInfo | undefined;

  constructor(options: ApiCallerOptions) {
    this.#http = options.http;
    this.#credentials = options.credentials;
    this.#validator = options.validator;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Sends, and parses a 2xx body with `schema`. */
  async call<T>(request: ApiRequest, schema: z.ZodType<T>, what: string): Promise<{ data: T; response: HttpResponse }> {
    const response = await this.send(request, what);
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      const shape = response.json === undefined ? 'a body that is not JSON' : 'a body that does not match the contract';
      throw new ResponseValidationError(`${what}: the backend answered HTTP ${response.status} with ${shape}.`, {
        status: response.status,
        requestId: response.requestId,
        hint: 'Check that MESH_API_URL points at a Mesh backend of a compatible version.',
        cause: parsed.error,
      });
    }
    return { data: parsed.data, response };
  }

  /** Sends with credentials; answers a 2xx (a stream's body unread), or throws the error it means. */
  async send(request: ApiRequest, what: string): Promise<HttpResponse> {
    if (this.#credentials.registersUser && request.path !== PROFILE_PATH) await this.#registerOnce(request.signal);
    let token = await this.#credentials.token(request.signal);
    let response = await this.#http.send({ ...request, token });
    const mayMeanLoggedOut = response.status === 401 || (response.status === 404 && hidesFromStrangers(request.path));
    if (mayMeanLoggedOut) {
      // One refresh per failure, never more: no loops.
      const renewed = await this.#credentials.renew(token, request.signal);
      if (renewed !== undefined) {
        await response.body?.dump();
        token = renewed;
        response = await this.#http.send({ ...request, token });
      }
      if (response.status === 401) throw this.#refused(response, what, 'the backend refused the credentials');
      if (response.status === 404 && hidesFromStrangers(request.path)) {
        const validation = await this.#validator.validate(token, { signal: request.signal });
        this.#logger.debug(`404 from ${request.path}: token ${validation.valid ? 'valid' : 'not valid'} (${validation.source}).`);
        if (!validation.valid) throw this.#refused(response, what, validation.reason ?? 'the token is not valid');
      }
    }
    this.lastRateLimit = response.rateLimit ?? this.lastRateLimit;
    if (response.status >= 400) throw errorFromResponse(response, what);
    return response;
  }

  #refused(response: HttpResponse, what: string, why: string): AuthenticationError {
    return new AuthenticationError(`${what} was refused: you may not be logged in (${why}).`, {
      status: response.status,
      requestId: response.requestId,
      hint: this.#credentials.refusedHint,
    });
  }

  /** Meets the backend through /auth/profile now (after a login), and answers the profile. */
  async register(signal?: AbortSignal) {
    const registration = this.call({ method: 'GET', path: PROFILE_PATH, signal }, profileReply, 'Registering with Mesh');
    this.#registered = registration.catch(() => {
      this.#registered = undefined;
    });
    return (await registration).data.profile;
  }

  /** The Python SDK meets the backend through /auth/profile before the first call; so do we, once. */
  async #registerOnce(signal?: AbortSignal): Promise<void> {
    this.#registered ??= this.call({ method: 'GET', path: PROFILE_PATH, signal }, profileReply, 'Registering with Mesh').catch(
      (error: unknown) => {
        this.#registered = undefined; // try again with the next call
        if (error instanceof AuthenticationError) throw error;
        this.#logger.debug(`Registering through ${PROFILE_PATH} failed: ${(error as Error).message}`);
      },
    );
    await this.#registered;
  }
}
