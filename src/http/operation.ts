/**
 * A call to the backend, declared once: its name, how errors name it, its method and path (or the
 * paths a deployment may serve it on), how its reply is read, and its own bounds. The API's calls
 * are declared in client/operations.ts and run by the client's pipeline; the auth endpoints'
 * (`/auth/*`) in auth/backend/backend-auth.ts. Both go through one HttpClient and one retry policy
 * (retry-policy.ts): a GET after any transient failure, a POST only where it cannot have been
 * processed, or with an Idempotency-Key the backend honours.
 */
export interface Operation<Check = unknown> {
  /** The name in traces and debug lines. */
  readonly name: string;
  /** How errors name the call: "Listing keys: ...". */
  readonly what: string;
  readonly method: 'GET' | 'POST';
  /**
   * Where it is served. More than one: deployments serve it on either; they are tried in order on
   * a 404 (believed only once the credential is known good) and the one that answered is remembered.
   */
  readonly paths: readonly [string, ...string[]];
  /** How a 2xx body is read; none: the reply is handed back unread (a stream) or judged by its status. */
  readonly reply?: Check;
  /** A 404 may mean the user is not registered yet: register once more and retry before the next path. */
  readonly registerOn404?: boolean;
  /** The reply is a stream: its body is left unread (the timeout covers the headers, then each pause). */
  readonly stream?: boolean;
  /** Its own per-attempt timeout, ms, when the client's default does not fit. */
  readonly timeout?: number;
  /** Its own retry budget, when the client's does not fit (0: a poll or a check that must not repeat). */
  readonly maxRetries?: number;
}
