// The whole public API of mesh-sdk. Names here are binding: add, don't rename. No logic here.
export { EnvStore, type EnvStoreOptions } from './auth/stores/env-store.js';
export { FileStore, type FileStoreOptions } from './auth/stores/file-store.js';
export { KeychainStore, type KeychainStoreOptions } from './auth/stores/keychain-store.js';
export { MemoryStore } from './auth/stores/memory-store.js';
export type { TokenSet, TokenStore } from './auth/token-store.js';
export type { ValidationResult } from './auth/validator.js';
export { chat, chatStream, generateApiKey, getDefaultClient, getKey, listKeys, storeKey } from './client/default-client.js';
export { MeshClient } from './client/mesh-client.js';
export type {
  ApiKeyInfo,
  ChatContentPart,
  ChatMessage,
  ChatOptions,
  ChatResponse,
  ChatStreamResult,
  ChatUsage,
  CreatedApiKey,
  Profile,
  RateLimitInfo,
  RequestOptions,
  TokenProvider,
} from './client/types.js';
export type { Auth0Options, Logger, MeshClientOptions } from './config/options.js';
export type { TokenStoreKind } from './config/parsers.js';
export { type ConfigSource, type ResolvedConfig, resolveConfig } from './config/resolve.js';
export { ErrorCode } from './errors/codes.js';
export {
  AbortError,
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
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
  StreamInterruptedError,
  TimeoutError,
  UnsupportedByBackendError,
} from './errors/mesh-error.js';
export type { AuthFlowCallbacks, DeviceVerification, LoginOptions } from './flow/auth-flow.js';
export { redact } from './internal/redact.js';
