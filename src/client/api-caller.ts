/**
 * The call flow of every authenticated request (backend-contract.md part C): the credential's
 * headers, the user's profile fetched once per client (it registers the user and gives the
 * `userId`), a 404 believed only once the credential is known good (the deployed backend answers
 * 404 to a bad credential), else one refresh and one retry; an Idempotency-Key on POSTs only when
 * the backend advertises `idempotency_key`; status -> error; body -> zod.
 */
import { randomUUID } from 'node:crypto';
import type { TokenValidator } from '../auth/tokens/validator.js';
import { AbortError, AuthenticationError } from '../errors/mesh-error.js';
import type { HttpClient, HttpRequest, HttpResponse, RateLimitInfo } from '../http/http-client.js';
import { errorFromResponse } from '../http/response-errors.js';
import { untilAborted } from '../http/waiting.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import type { Credentials } from './credentials.js';
import { parseReply, profileReply, type Reply } from './replies.js';
import type { Profile } from './types.js';

export type ApiRequest = Omit<HttpRequest, 'token' | 'apiKey' | 'idempotencyKey'> & {
  /** The credential to send instead of asking the credentials for one (right after a login). */
  credential?: string;
};

export interface ApiCallerOptions {
  http: HttpClient;
  credentials: Credentials;
  validator: TokenValidator;
  logger?: InternalLogger;
  /**
   * The backend's advertised extensions (contract part B, `GET /auth/config` `capabilities`).
   * Failure means none. @default no capabilities
   */
  capabilities?: () => Promise<ReadonlySet<string>>;
}

export const PROFILE_PATH = '/auth/profile';
const NO_CAPABILITIES: ReadonlySet<string> = new Set();

/** Where the backend answers 404 to a bad credential (it hides these routes from strangers). */
function hidesFromStrangers(path: string): boolean {
  return path.startsWith('/api/v1/') || path.startsWith('/v1/mesh/') || path === PROFILE_PATH;
}

export class ApiCaller {
  readonly #http: HttpClient;
  readonly #credentials: Credentials;
  readonly #validator: TokenValidator;
  readonly #logger: InternalLogger;
  readonly #capabilities: () => Promise<ReadonlySet<string>>;
  /** The profile: fetched once per client (single flight), forgotten when the fetch fails. */
  #profile: Promise<Profile> | undefined;
  /**
   * The profile `#profile` settled on, while it is still the current one: with it known, a call
   * checks a field instead of awaiting a settled promise (no microtask turns per call).
   */
  #known: Profile | undefined;
  /** The advertised extensions, once the capabilities promise settled (fetched once anyway). */
  #advertised: ReadonlySet<string> | undefined;
  /** The latest profile read and the credential it was read with. */
  #lastRead: { credential: string; profile: Promise<Profile> } | undefined;
  /** The rate-limit headers of the latest reply. */
  lastRateLimit: RateLimitInfo | undefined;

  constructor(options: ApiCallerOptions) {
    this.#http = options.http;
    this.#credentials = options.credentials;
    this.#validator = options.validator;
    this.#logger = options.logger ?? silentLogger;
    this.#capabilities = options.capabilities ?? (async () => NO_CAPABILITIES);
  }

  /** Sends, and reads a 2xx body as `reply`. */
  async call<T>(request: ApiRequest, reply: Reply<T>, what: string): Promise<{ data: T; response: HttpResponse }> {
    const response = await this.send(request, what);
    return { data: await parseReply(reply, response, what), response };
  }

  /** Sends with credentials; answers a 2xx (a stream's body unread), or throws the error it means. */
  async send(request: ApiRequest, what: string): Promise<HttpResponse> {
    // Once the profile is known (and the caller has not given up), registering is done: no await.
    if (request.path !== PROFILE_PATH && (this.#known === undefined || request.signal?.aborted)) {
      await this.#registerOnce(request.signal);
    }
    let token = request.credential ?? (await this.#credentials.token(request.signal));
    let response = await this.#sendOnce(request, token);
    if (response.status === 401 || (response.status === 404 && hidesFromStrangers(request.path))) {
      const why = response.status === 404 ? await this.#rejection(token, request) : 'HTTP 401';
      if (why !== undefined) {
        // One refresh per failure, never more: no loops.
        const renewed = await this.#credentials.renew(token, request.signal);
        if (renewed === undefined) throw this.#refused(response, what, why);
        await response.body?.dump();
        token = renewed;
        response = await this.#sendOnce(request, token);
        if (response.status === 401) throw this.#refused(response, what, 'the renewed credentials were refused too');
        if (response.status === 404 && hidesFromStrangers(request.path)) {
          const still = await this.#rejection(token, request);
          if (still !== undefined) throw this.#refused(response, what, still);
        }
      }
    }
    this.lastRateLimit = response.rateLimit ?? this.lastRateLimit;
    if (response.status >= 400) throw errorFromResponse(response, what);
    return response;
  }

  /** One HTTP exchange (with the HTTP layer's retries) carrying this credential. */
  #sendOnce(request: ApiRequest, credential: string): Promise<HttpResponse> {
    if (request.method !== 'POST') return this.#http.send(this.#httpRequest(request, credential, undefined));
    // One key per exchange, the same on each of its attempts; a resend after a refresh is a new request.
    if (this.#advertised !== undefined) {
      const key = this.#advertised.has('idempotency_key') ? randomUUID() : undefined;
      return this.#http.send(this.#httpRequest(request, credential, key));
    }
    return this.#advertises('idempotency_key').then((advertised) =>
      this.#http.send(this.#httpRequest(request, credential, advertised ? randomUUID() : undefined)),
    );
  }

  /**
   * The HTTP layer's request, field by field (no spreads per call). Every HttpRequest field but the
   * credential ones comes from `request`: a new field there must be added here.
   */
  #httpRequest(request: ApiRequest, credential: string, idempotencyKey: string | undefined): HttpRequest {
    const apiKey = this.#credentials.kind === 'apiKey';
    return {
      method: request.method,
      path: request.path,
      body: request.body,
      token: apiKey ? undefined : credential,
      apiKey: apiKey ? credential : undefined,
      idempotencyKey,
      timeout: request.timeout,
      signal: request.signal,
      maxRetries: request.maxRetries,
      stream: request.stream,
    };
  }

  async #advertises(capability: string): Promise<boolean> {
    try {
      const advertised = await this.#capabilities();
      this.#advertised = advertised;
      return advertised.has(capability);
    } catch {
      return false;
    }
  }

  /**
   * Why a 404 may mean "bad credential", or undefined when the credential is known good (then the
   * 404 is real). A bearer asks `/auth/validate` (or the local checks); an API key is never sent
   * there (contract part A): the profile answering it is the proof.
   */
  async #rejection(credential: string, request: ApiRequest): Promise<string | undefined> {
    if (this.#credentials.kind === 'apiKey') {
      if (request.path === PROFILE_PATH) return 'the backend did not accept the API key';
      const probe = await this.#http.send({ method: 'GET', path: PROFILE_PATH, apiKey: credential, signal: request.signal });
      this.#logger.debug(`404 from ${request.path}: the profile answered ${probe.status} to the API key.`);
      return probe.status === 200 ? undefined : 'the backend did not accept the API key';
    }
    const validation = await this.#validator.validate(credential, { signal: request.signal });
    this.#logger.debug(`404 from ${request.path}: token ${validation.valid ? 'valid' : 'not valid'} (${validation.source}).`);
    return validation.valid ? undefined : (validation.reason ?? 'the token is not valid');
  }

  #refused(response: HttpResponse, what: string, why: string): AuthenticationError {
    const translated = errorFromResponse(response, what);
    return new AuthenticationError(`${what} was refused: you may not be logged in (${why}).`, {
      status: response.status,
      requestId: translated.requestId,
      serverCode: translated.serverCode,
      serverMessage: translated.serverMessage,
      hint: this.#credentials.refusedHint,
    });
  }

  /**
   * The user's profile, fetched once per client and shared by concurrent callers; `fresh` fetches
   * it again (after a login, or to register once more).
   */
  async profile(signal?: AbortSignal, options: { fresh?: boolean; credential?: string } = {}): Promise<Profile> {
    if (options.fresh || this.#profile === undefined) {
      // The shared fetch carries no caller's signal (each caller stops waiting on its own); the
      // HTTP timeout bounds it.
      const fetching = this.#readProfile(options.fresh === true, options.credential);
      this.#profile = fetching;
      this.#known = undefined;
      fetching.then(
        (profile) => {
          if (this.#profile === fetching) this.#known = profile;
        },
        () => {
          if (this.#profile === fetching) this.#profile = undefined; // try again with the next call
        },
      );
    }
    return untilAborted(this.#profile, signal, 'Reading the profile was aborted.');
  }

  /**
   * One read of /auth/profile, unless `fresh` is false and the profile was just read with this very
   * credential: a call that needed a login waits for its token while the login registers with it,
   * and that registration answers the call too (one request, not two).
   */
  async #readProfile(fresh: boolean, credential: string | undefined): Promise<Profile> {
    const token = credential ?? (await this.#credentials.token());
    const last = this.#lastRead;
    if (!fresh && last?.credential === token) return last.profile;
    const profile = this.call({ method: 'GET', path: PROFILE_PATH, credential: token }, profileReply, 'Reading the profile').then(
      ({ data }) => toProfile(data),
    );
    this.#lastRead = { credential: token, profile };
    profile.catch(() => {
      if (this.#lastRead?.profile === profile) this.#lastRead = undefined; // a failed read answers no one else
    });
    return profile;
  }

  /** Forgets the cached profile (after a logout: the next user is not this one). */
  forgetProfile(): void {
    this.#profile = undefined;
    this.#known = undefined;
    this.#lastRead = undefined;
  }

  /**
   * Meets the backend through /auth/profile now (after a login), and answers the profile.
   * `credential`: the token just stored, sent as it is (a login running inside a call must not
   * wait on itself for a token).
   */
  async register(signal?: AbortSignal, credential?: string): Promise<Profile> {
    return this.profile(signal, { fresh: true, credential });
  }

  /** The `userId` of the stored keys: the profile's `id`, never a token claim. */
  async userId(signal?: AbortSignal): Promise<string> {
    return (await this.profile(signal)).id;
  }

  /**
   * The `userId` without waiting, when the profile is known and the caller has not given up;
   * undefined otherwise (then `await userId(signal)`).
   */
  knownUserId(signal?: AbortSignal): string | undefined {
    return signal?.aborted ? undefined : this.#known?.id;
  }

  /** The Python SDK meets the backend through /auth/profile before the first call; so do we, once. */
  async #registerOnce(signal?: AbortSignal): Promise<void> {
    try {
      await this.profile(signal);
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof AbortError) throw error;
      this.#logger.debug(`Registering through ${PROFILE_PATH} failed: ${(error as Error).message}`);
    }
  }
}

function toProfile(data: { id: string; email?: string | null; name?: string | null; credits?: number | null }): Profile {
  const profile: Profile = { id: data.id };
  if (typeof data.email === 'string') profile.email = data.email;
  if (typeof data.name === 'string') profile.name = data.name;
  if (typeof data.credits === 'number') profile.credits = data.credits;
  return profile;
}
