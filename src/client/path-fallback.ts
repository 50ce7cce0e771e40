/**
 * Routes a deployment may serve on one of several paths (chat, API-key creation): try them in
 * order, fall back on a 404 (only ever believed once the credential is known good: ApiCaller),
 * and remember per client the path that answered.
 */
import { AbortError, AuthenticationError, NotFoundError } from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
import type { ApiCaller, ApiRequest } from './api-caller.js';

/** Which of several paths answered, per client: the next call (and every stream) goes there first. */
export class PathMemory {
  #answered: string | undefined;

  constructor(readonly paths: readonly string[]) {}

  /** The path that answered last, else the first to try. */
  get first(): string {
    return this.#answered ?? (this.paths[0] as string);
  }

  /** The paths in the order to try them: the one that answered first. */
  order(): string[] {
    const first = this.first;
    return [first, ...this.paths.filter((path) => path !== first)];
  }

  remember(path: string): void {
    this.#answered = path;
  }
}

export interface FallbackOptions {
  /**
   * On the first 404, meet the backend through `/auth/profile` once more and retry the same path
   * before the next one: chat answers 404 to a user it has not registered (README 1.5.5).
   */
  registerOn404?: boolean;
}

/** Sends `request(path)` on each path in turn until one answers; the last 404 when none does. */
export async function sendWithFallback(
  api: ApiCaller,
  memory: PathMemory,
  request: (path: string) => ApiRequest,
  what: string,
  options: FallbackOptions = {},
): Promise<HttpResponse> {
  let registeredAgain = !options.registerOn404;
  let notFound: NotFoundError | undefined;
  for (const path of memory.order()) {
    for (;;) {
      const attempt = request(path);
      try {
        const response = await api.send(attempt, what);
        memory.remember(path);
        return response;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        notFound = error;
      }
      if (registeredAgain) break;
      registeredAgain = true;
      try {
        await api.register(attempt.signal);
      } catch (error) {
        if (error instanceof AuthenticationError || error instanceof AbortError) throw error;
        break; // the profile cannot help: go on to the next path
      }
    }
  }
  throw notFound as NotFoundError;
}
