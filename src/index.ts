// The whole public API of mesh-sdk. Names here are binding: add, don't rename. No logic here.
export type { TokenSet, TokenStore } from './auth/token-store.js';
export { MeshClient } from './client/mesh-client.js';
export type { Auth0Options, Logger, MeshClientOptions } from './config/options.js';
export type { TokenStoreKind } from './config/parsers.js';
export { type ConfigSource, type ResolvedConfig, resolveConfig } from './config/resolve.js';
export { ErrorCode } from './errors/codes.js';
export {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConfigError,
  KeychainError,
  LoginError,
  MeshError,
  type MeshErrorDetails,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ReauthenticationRequiredError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
} from './errors/mesh-error.js';
export { redact } from './internal/redact.js';
