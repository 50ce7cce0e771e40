/** A non-2xx reply as the error a caller can act on: class by status, the server's words, the request id. */
import { ErrorCode } from '../errors/codes.js';
import {
  AuthenticationError,
  BadRequestError,
  MeshError,
  NotFoundError,
  RateLimitError,
  ServerError,
} from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { errorBody } from './schemas.js';

export function errorFromResponse(response: HttpResponse, what: string): MeshError {
  const { status, requestId } = response;
  const parsed = errorBody.safeParse(response.json);
  const said = parsed.success ? (parsed.data.message ?? parsed.data.error_description) : undefined;
  const code = parsed.success ? parsed.data.error : undefined;
  const detail = said
    ? `: ${said}`
    : response.json === undefined && response.text
      ? ' (an HTML or text page, probably from a proxy)'
      : '';
  const base = { status, requestId };
  if (status === 400) return new BadRequestError(`${what} was refused as invalid${detail}`, base);
  if (status === 401 || status === 403) {
    return new AuthenticationError(`${what} was refused: not authenticated${detail}`, {
      ...base,
      hint: 'Run `npx mesh-auth` to log in.',
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
    const retryAfter = parseRetryAfter(response.headers['retry-after'] as string | undefined);
    return new RateLimitError(`${what} was rate limited${detail}`, {
      ...base,
      retryAfter,
      hint: retryAfter === undefined ? 'Slow down and try again.' : `Try again in ${retryAfter} s.`,
    });
  }
  if (status >= 500 || status === 408) {
    return new ServerError(`${what} failed on the server (HTTP ${status})${detail}`, {
      ...base,
      hint: 'Try again shortly; quote the request id if it persists.',
    });
  }
  return new MeshError(`${what} failed (HTTP ${status}${code ? `, ${code}` : ''})${detail}`, {
    ...base,
    code: code ?? `http_${status}`,
  });
}
