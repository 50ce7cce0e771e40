// The one reply->error translator (errorFromResponse) over every error body shape the deployed
// backend and its proxies send: our code and class apart from the server's own words. No I/O.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/codes.js';
import type { HttpResponse } from '../../src/http/http-client.js';
import { errorFromResponse, serverWords } from '../../src/http/response-errors.js';

function reply(status: number, json: unknown, extra: Partial<HttpResponse> = {}): HttpResponse {
  const text = json === undefined ? '' : JSON.stringify(json);
  return { status, headers: {}, requestId: undefined, json, text, rateLimit: undefined, attempts: 1, ...extra };
}

describe('errorFromResponse', () => {
  it.each([
    ['{"error": "text"}', { error: 'Key not found' }, undefined, 'Key not found'],
    ['{"error": "code"}', { error: 'invalid_grant' }, 'invalid_grant', undefined],
    ['{"error": "code: text"}', { error: 'invalid_grant: reused' }, 'invalid_grant', 'invalid_grant: reused'],
    ['{"error": {"message"}}', { error: { message: 'Model overloaded', code: 'overloaded' } }, 'overloaded', 'Model overloaded'],
    ['{message}', { message: 'Bad things' }, undefined, 'Bad things'],
    ['{error, error_description}', { error: 'invalid_grant', error_description: 'reused' }, 'invalid_grant', 'reused'],
  ])('keeps the server words of %s apart from our code', (_shape, body, serverCode, serverMessage) => {
    const error = errorFromResponse(reply(400, body), 'Thing');
    expect(error).toMatchObject({ name: 'BadRequestError', code: ErrorCode.BAD_REQUEST, status: 400, serverCode, serverMessage });
  });

  it('says an HTML page came from a proxy, and handles no body at all', () => {
    const html = errorFromResponse(
      reply(520, undefined, { text: '<html><body>Web server is returning an unknown error</body></html>' }),
      'Chat',
    );
    expect(html).toMatchObject({ name: 'ServerError', status: 520, serverCode: undefined, serverMessage: undefined });
    expect(html.message).toMatch(/HTML/);
    expect(errorFromResponse(reply(503, undefined), 'Chat')).toMatchObject({ name: 'ServerError', status: 503 });
  });

  it('maps statuses to classes, with a documented constant (never http_<n>) for the rest', () => {
    const cases: Array<[number, string, string]> = [
      [401, 'AuthenticationError', ErrorCode.AUTHENTICATION_FAILED],
      [403, 'AuthenticationError', ErrorCode.AUTHENTICATION_FAILED],
      [402, 'MeshError', ErrorCode.INSUFFICIENT_CREDITS],
      [404, 'NotFoundError', ErrorCode.NOT_FOUND],
      [408, 'ServerError', ErrorCode.SERVER_ERROR],
      [429, 'RateLimitError', ErrorCode.RATE_LIMITED],
      [409, 'MeshError', ErrorCode.REQUEST_FAILED],
      [422, 'MeshError', ErrorCode.REQUEST_FAILED],
    ];
    for (const [status, name, code] of cases)
      expect(errorFromResponse(reply(status, { error: 'x y' }), 'T')).toMatchObject({ name, code });
    expect(errorFromResponse(reply(429, undefined, { headers: { 'retry-after': '7' } }), 'T')).toMatchObject({ retryAfter: 7 });
  });

  it('takes the request id from the header, else from the body; redacts a secret the server echoes', () => {
    expect(errorFromResponse(reply(500, { error: 'x', request_id: 'req_body' }), 'T').requestId).toBe('req_body');
    expect(errorFromResponse(reply(500, { error: 'x', request_id: 'req_body' }, { requestId: 'req_head' }), 'T').requestId).toBe(
      'req_head',
    );
    const key = `mesh_pk_${'Q'.repeat(30)}`;
    const error = errorFromResponse(reply(400, { error: `bad key ${key}` }), 'T');
    expect(`${error.message} ${error.serverMessage} ${JSON.stringify(error)}`).not.toContain(key);
    expect(serverWords('not an object')).toEqual({});
  });
});
