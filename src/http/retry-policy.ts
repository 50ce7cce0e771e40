/**
 * When to retry and how long to wait, in one place (backend-contract.md part C): GETs on
 * connection errors, 408, 429, 500, 502, 503, 504 and 520-524; a POST only where it cannot have
 * been processed (the connection was refused, or the server refused it with 429 before doing
 * anything), or when it carries an Idempotency-Key the backend advertised it honours; exponential
 * backoff with full jitter; `Retry-After` honoured up to a cap (a server asking for more gets no
 * retry: the caller hears how long it asked for); all the waits of one call together bounded.
 */

export const RETRY_DEFAULTS = {
  baseDelayMs: 500, // 0.5 s, doubled per attempt
  maxDelayMs: 8_000, // 8 s cap for computed backoff
  maxRetryAfterMs: 60_000, // 60 s: a server asking for longer is not retried by the SDK
  maxTotalWaitMs: 60_000, // 60 s: all the retry waits of one call together
} as const;

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524]);

/** Errors where the request never reached the server: safe to retry any method. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** Errors where the request may have been processed: retry only idempotent requests. */
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT']);

/**
 * A 429 is a refusal before any processing (RFC 6585 §4): the one status after which even a plain
 * POST may be sent again. A 5xx or 408 may come after the work was done (a 520 from the proxy in
 * front of the deployed backend arrives after minutes of it).
 */
const NOT_PROCESSED_STATUS = new Set([429]);

export interface RetryContext {
  /** GET/DELETE/HEAD, or a POST carrying an Idempotency-Key the server honours. */
  idempotent: boolean;
}

/** Whether a reply with this status may be retried for this request (any request when no context is given). */
export function isRetryableStatus(status: number, context: RetryContext = { idempotent: true }): boolean {
  if (!RETRYABLE_STATUS.has(status)) return false;
  return context.idempotent || NOT_PROCESSED_STATUS.has(status);
}

/** Whether a failed attempt may be retried for this request. */
export function isRetryableError(error: unknown, context: RetryContext): boolean {
  const codes = errorCodes(error);
  if (codes.some((code) => NOT_SENT_CODES.has(code))) return true;
  // A timeout or a reset may come after the server processed the request.
  return context.idempotent && codes.some((code) => MAYBE_SENT_CODES.has(code) || code === 'timeout');
}

/** Every `code` along an error's cause chain: ours (`network_error`) and the system's (`ECONNREFUSED`). */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 5; depth++) {
    if (typeof current.code === 'string') codes.push(current.code);
    current = current.cause as typeof current;
  }
  return codes;
}

/** The most specific code: the system's when there is one. */
export function errorCode(error: unknown): string | undefined {
  return errorCodes(error).at(-1);
}

/**
 * Delay before retry number `retry` (1-based): Retry-After when given, else full jitter. Undefined
 * when the server asks for longer than `maxRetryAfterMs`: that wait is the caller's to decide.
 */
export function retryDelayMs(
  retry: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterSeconds !== undefined) {
    const asked = retryAfterSeconds * 1000;
    return asked > RETRY_DEFAULTS.maxRetryAfterMs ? undefined : asked;
  }
  const ceiling = Math.min(RETRY_DEFAULTS.maxDelayMs, RETRY_DEFAULTS.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
