import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConfigError,
  ErrorCode,
  KeychainError,
  LoginError,
  MeshError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ReauthenticationRequiredError,
  ResponseValidationError,
  redact,
  ServerError,
  TimeoutError,
  UnsupportedByBackendError,
} from '../../src/index.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJhdXRoMHwxMjMiLCJhdWQiOiJodHRwczovL2FwaSJ9.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu';
const API_KEY = `mesh_${'Zx9_-'.repeat(8)}abc`;
const REFRESH = 'v1.MzJ-opaque-refresh-token-value-0123456789';
const CODE = 'SplxlOBeZQQYbYS6WxSbIA';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

describe('redact', () => {
  it.each([
    ['a bearer header', `Authorization: Bearer ${REFRESH}`, REFRESH],
    ['a JWT in prose', `token was ${JWT} and more`, JWT],
    ['a mesh_ key', `used key ${API_KEY}.`, API_KEY],
    ['a refresh token in JSON', `{"refresh_token":"${REFRESH}","x":1}`, REFRESH],
    ['a refresh token in escaped JSON', JSON.stringify(JSON.stringify({ refresh_token: REFRESH })), REFRESH],
    ['a code in a callback URL', `http://localhost:8000/callback?code=${CODE}&state=abc`, CODE],
    ['a verifier in a form body', `grant_type=authorization_code&code_verifier=${VERIFIER}`, VERIFIER],
    ['a key value in JSON', `{"key_name":"openai","key_value":"sk-live-123456"}`, 'sk-live-123456'],
    ['an env export line', `export MESH_REFRESH_TOKEN=${REFRESH}`, REFRESH],
    ['a device code', `{"device_code": "${VERIFIER}"}`, VERIFIER],
    ['a client secret', `client_secret=${VERIFIER}`, VERIFIER],
  ])('strips %s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/REDACTED/);
  });

  it('keeps the rest of the text readable', () => {
    expect(redact('GET /api/v1/keys answered 404 (request req_123)')).toBe('GET /api/v1/keys answered 404 (request req_123)');
    expect(redact(`state=abc&code=${CODE}`)).toBe('state=abc&code=[REDACTED]');
    expect(redact('error code: invalid_grant')).toBe('error code: invalid_grant');
  });
});

describe('MeshError', () => {
  it('carries code, message, hint, status, requestId and cause', () => {
    const cause = new Error('socket hang up');
    const error = new MeshError('Request failed', {
      code: ErrorCode.REQUEST_FAILED,
      hint: 'Try again.',
      status: 503,
      requestId: 'req_1',
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'MeshError',
      code: 'request_failed',
      message: 'Request failed',
      hint: 'Try again.',
      status: 503,
      requestId: 'req_1',
    });
    expect(error.cause).toBe(cause);
  });

  it('redacts its message, hint and JSON form', () => {
    const error = new AuthenticationError(`Backend refused Bearer ${JWT}`, { hint: `export MESH_ACCESS_TOKEN=${JWT}` });
    const everything = `${error.message} ${error.hint} ${JSON.stringify(error)} ${error.stack}`;
    expect(everything).not.toContain(JWT);
  });

  it.each([
    [MeshError, ErrorCode.MESH_ERROR],
    [ConfigError, ErrorCode.CONFIG_INVALID],
    [AuthenticationError, ErrorCode.AUTHENTICATION_FAILED],
    [ReauthenticationRequiredError, ErrorCode.REAUTHENTICATION_REQUIRED],
    [LoginError, ErrorCode.LOGIN_FAILED],
    [NetworkError, ErrorCode.NETWORK_ERROR],
    [TimeoutError, ErrorCode.TIMEOUT],
    [AbortError, ErrorCode.ABORTED],
    [ServerError, ErrorCode.SERVER_ERROR],
    [BadRequestError, ErrorCode.BAD_REQUEST],
    [NotFoundError, ErrorCode.NOT_FOUND],
    [ResponseValidationError, ErrorCode.INVALID_RESPONSE],
    [KeychainError, ErrorCode.KEYCHAIN_UNAVAILABLE],
    [RateLimitError, ErrorCode.RATE_LIMITED],
    [UnsupportedByBackendError, ErrorCode.UNSUPPORTED_BY_BACKEND],
  ] as const)('%o has a stable code, its own name, and is a MeshError', (ErrorClass, code) => {
    const error = new ErrorClass('x');
    expect(error).toBeInstanceOf(MeshError);
    expect(error.code).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
  });

  it('keeps the hierarchy callers catch on', () => {
    expect(new ReauthenticationRequiredError('x')).toBeInstanceOf(AuthenticationError);
    expect(new TimeoutError('x')).toBeInstanceOf(NetworkError);
  });

  it("keeps the backend's own words apart from our code, redacted, in its JSON form too", () => {
    const error = new MeshError('Storing failed', {
      code: ErrorCode.REQUEST_FAILED,
      serverCode: 'conflict',
      serverMessage: `key ${API_KEY} exists`,
    });
    expect(error).toMatchObject({ code: 'request_failed', serverCode: 'conflict' });
    expect(error.serverMessage).not.toContain(API_KEY);
    expect(error.toJSON()).toMatchObject({ serverCode: 'conflict', serverMessage: expect.stringMatching(/REDACTED/) });
  });

  it('documents every code as a constant (no codes built at run time)', () => {
    expect(Object.values(ErrorCode).every((code) => /^[a-z_]+$/.test(code))).toBe(true);
    expect(ErrorCode.UNSUPPORTED_BY_BACKEND).toBe('unsupported_by_backend');
  });

  it('gives RateLimitError a retryAfter in seconds', () => {
    const error = new RateLimitError('Slow down', { retryAfter: 7, status: 429 });
    expect(error.retryAfter).toBe(7);
    expect(error.toJSON()).toMatchObject({ code: 'rate_limited', retryAfter: 7, status: 429 });
  });
});
