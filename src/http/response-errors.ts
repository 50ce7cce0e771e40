/**
 * The one translator from a failed reply to the error a caller can act on, for the API, the auth
 * endpoints and the chat stream: the class by status, the backend's own words kept apart
 * (`serverCode`, `serverMessage`), the request id from the header or the body. Error bodies come
 * as `{"error": "text"}`, `{"error": {"message"}}`, `{message}`, OAuth's `{error,
 * error_description}`, an HTML page from a proxy, or nothing (backend-contract.md part A).
 */
import { ErrorCode } from '../errors/codes.js';
import {
  AuthenticationError,
  BadRequestError,
  MeshError,
  type MeshErrorDetails,
  NotFoundError,
  RateLimitError,
  ServerError,
} from '../errors/mesh-error.js';
import { isObject, isOptionalString } from '../internal/json-text.js';
import { oneLine } from '../internal/safe-text.js';
import type { HttpResponse } from './http-client.js';
import { parseRetryAfter } from './retry-after.js';

/** Every error body shape seen: `{"error": "text"}`, `{"error": {"message", "code"?}}`, `{message}`, OAuth's `{error, error_description}`. */
interface ErrorBody {
  error?: string | { message?: string; code?: string | number; type?: string };
  error_description?: string;
  message?: string;
  request_id?: string;
}

/**
 * The body as an error body, or undefined when any of its known fields has another type (then
 * nothing it says is trusted). Checked by hand: this runs on every failed reply, and loading a
 * schema library for it would cost more than the failure's own round trip.
 */
function errorBodyOf(json: unknown): ErrorBody | undefined {
  if (!isObject(json)) return undefined;
  const { error } = json;
  const fields = isOptionalString(json.error_description) && isOptionalString(json.message) && isOptionalString(json.request_id);
  if (!fields || !(json.success === undefined || typeof json.success === 'boolean')) return undefined;
  if (error === undefined || typeof error === 'string') return json as ErrorBody;
  if (!isObject(error) || !isOptionalString(error.message) || !isOptionalString(error.type)) return undefined;
  const code = error.code;
  return code === undefined || typeof code === 'string' || typeof code === 'number' ? (json as ErrorBody) : undefined;
}

/** What the backend said about the failure, in its own words. */
export interface ServerWords {
  /** A machine-readable code, e.g. `invalid_grant` (a snake_case word, or `error.code`/`error.type`). */
  code?: string;
  /** Its text, e.g. "User not found". */
  message?: string;
  requestId?: string;
}

/** A word that reads as a code rather than prose: `invalid_grant`, `not_found`, `KEY_MISSING`. */
const CODE_LIKE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** "invalid_grant: the refresh token was reused": a snake_case code leading the text. */
const LEADING_CODE = /^([a-z][a-z0-9]*(?:_[a-z0-9]+)+):\s/;

/** The backend's words from any error body shape; empty for HTML, text or no body. */
export function serverWords(json: unknown): ServerWords {
  const words = wordsOf(json);
  // The server's text goes into messages and terminals: one line, no control characters.
  if (words.code !== undefined) words.code = oneLine(words.code);
  if (words.message !== undefined) words.message = oneLine(words.message);
  if (words.requestId !== undefined) words.requestId = oneLine(words.requestId);
  return words;
}

function wordsOf(json: unknown): ServerWords {
  const body = errorBodyOf(json);
  if (!body) return {};
  const { error, error_description, message, request_id } = body;
  const words: ServerWords = { requestId: request_id };
  if (typeof error === 'string') {
    const led = LEADING_CODE.exec(error);
    if (CODE_LIKE.test(error)) words.code = error;
    else if (led) words.code = led[1];
    words.message = error_description ?? message ?? (CODE_LIKE.test(error) ? undefined : error);
  } else if (error) {
    const code = error.code ?? error.type;
    words.code = code === undefined ? undefined : String(code);
    words.message = error.message ?? error_description ?? message;
  } else {
    words.message = error_description ?? message;
  }
  return words;
}

/**
 * The typed error a non-2xx reply means (or a 2xx that reports a failure, e.g. `"success": false`).
 * `what` names the operation, e.g. "Chat" or "Reading key \"openai\"".
 */
export function errorFromResponse(response: HttpResponse, what: string): MeshError {
  const { status } = response;
  const words = serverWords(response.json);
  const said = words.message ?? words.code;
  const detail = said
    ? `: ${said}`
    : response.json === undefined && response.text.trim() !== ''
      ? ' (an HTML or text page, probably from a proxy)'
      : '';
  const base: MeshErrorDetails = {
    status,
    requestId: response.requestId ?? words.requestId,
    serverCode: words.code,
    serverMessage: words.message,
  };
  if (status === 400) return new BadRequestError(`${what} was refused as invalid${detail}`, base);
  if (status === 401 || status === 403) {
    return new AuthenticationError(`${what} was refused: not authenticated or not allowed${detail}`, {
      ...base,
      hint: 'Run `npx mesh-auth` to log in, or check MESH_API_KEY.',
    });
  }
  if (status === 402) {
    return new MeshError(`${what} needs credits${detail}`, {
      ...base,
      code: ErrorCode.INSUFFICIENT_CREDITS,
      hint: 'Add credits to your Mesh account.',
    });
  }
  if (status === 404) return new NotFoundError(`${what}: not found${detail}`, base);
  if (status === 429) {
    const retryAfter = parseRetryAfter(firstHeader(response.headers['retry-after']));
    return new RateLimitError(`${what} was rate limited${detail}${triedFor(response)}`, {
      ...base,
      retryAfter,
      hint:
        retryAfter === undefined
          ? 'Slow down and try again.'
          : `The backend asks to wait ${humanWait(retryAfter)} before trying again.`,
    });
  }
  if (status >= 500 || status === 408) {
    return new ServerError(`${what} failed on the server (HTTP ${status})${detail}${triedFor(response)}`, {
      ...base,
      hint: 'Try again shortly; quote the request id if it persists.',
    });
  }
  return new MeshError(`${what} failed (HTTP ${status})${detail}`, { ...base, code: ErrorCode.REQUEST_FAILED });
}

/** How much trying a failure already took, when there were retries: ", after 3 attempts over 4 s". */
function triedFor(response: HttpResponse): string {
  if (response.attempts <= 1) return '';
  const waited = response.waitedMs ?? 0;
  return ` (after ${response.attempts} attempts${waited > 0 ? `, ${humanWait(Math.round(waited / 1000))} of waiting` : ''})`;
}

/** Seconds as a person reads them: "45 s", "3 min", "5 h", "11574 days". */
export function humanWait(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
