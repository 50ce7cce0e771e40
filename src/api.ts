// The whole public API of mesh-sdk, the same from every entry (src/index.ts for Node.js, Bun and
// Deno; src/worker.ts for edge Workers). Names here are binding: add, don't rename. Nothing but
// exports here.
// Reviewed name by name in issue 22 (CHANGELOG.md, "Unreleased"): each name is one a user constructs, calls,
// catches or must write down in a type; test/index.test.ts holds the list.

export type { HeldLock, TokenLock } from './auth/locks/token-lock.js';
export { EnvStore, type EnvStoreOptions } from './auth/stores/env-store.js';
export { FileStore, type FileStoreOptions } from './auth/stores/file-store.js';
export { KeychainStore, type KeychainStoreOptions } from './auth/stores/keychain-store.js';
export { MemoryStore } from './auth/stores/memory-store.js';
export type { RedisClientLike } from './auth/stores/redis-connection.js';
export {
  defaultRedisKey,
  type RedisStoreInspection,
  type RedisTokenStore,
  type RedisTokenStoreOptions,
  redisTokenStore,
  TokenStoreRecordError,
} from './auth/stores/redis-store.js';
export { SealedRecordError } from './auth/stores/seal.js';
export type { TokenSet, TokenStore } from './auth/stores/token-store.js';
export { TokenStoreConflictError } from './auth/stores/token-store-conflict.js';
export type { ValidationResult } from './auth/tokens/validator.js';
export { inspectConfig, resolveConfig } from './client/configuration.js';
export {
  chat,
  chatStream,
  generateApiKey,
  generateImage,
  getDefaultClient,
  getKey,
  listKeys,
  storeKey,
} from './client/default-client.js';
export type { GeneratedImage, GenerateImageOptions, ImageInput } from './client/images/types.js';
export { MeshClient } from './client/mesh-client.js';
export type { MeshClientOptions } from './client/options.js';
export type {
  ApiKeyInfo,
  AuthStatus,
  ChatContentPart,
  ChatMessage,
  ChatOptions,
  ChatResponse,
  ChatStreamResult,
  ChatUsage,
  CreatedApiKey,
  CredentialKind,
  Profile,
  RateLimitInfo,
  RequestOptions,
  TokenProvider,
} from './client/types.js';
export type { Auth0Options, Logger } from './config/options.js';
export type { RedisUrl, TokenStoreKind } from './config/parsers.js';
export {
  type ConfigProblem,
  type ConfigReport,
  type ConfigSource,
  defaultModelFor,
  type ResolvedConfig,
} from './config/resolve.js';
export { ErrorCode } from './errors/codes.js';
export {
  AbortError,
  AuthenticationError,
  BadRequestError,
  CircuitOpenError,
  ConfigError,
  ImageInputError,
  KeychainError,
  LoginError,
  MeshError,
  type MeshErrorDetails,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ReauthenticationRequiredError,
  RedirectRefusedError,
  ResponseValidationError,
  ServerError,
  StreamInterruptedError,
  TimeoutError,
  TokenStoreError,
  UnsupportedByBackendError,
  UnsupportedRuntimeError,
} from './errors/mesh-error.js';
export type { AuthFlowCallbacks, DeviceVerification, LoginOptions } from './flow/auth-flow.js';
export type { CircuitBreakerOptions } from './http/circuit-breaker.js';
export type { HeadlessVerdict } from './internal/headless.js';
export { redact } from './internal/redact.js';
