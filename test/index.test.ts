// The public index names what a user needs to name: the types at compile time (the imports and
// `expectTypeOf` below fail `tsc` when one goes missing) and, at run time, through the compiler's
// own list of the module's exports (vitest strips types, so it could not tell otherwise); every
// error class as a value.
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  AuthStatus,
  ChatOptions,
  CircuitBreakerOptions,
  ConfigSource,
  CreatedApiKey,
  ErrorCode,
  HeadlessVerdict,
  HeldLock,
  Logger,
  LoginOptions,
  Profile,
  RequestOptions,
  ResolvedConfig,
  TokenLock,
  TokenSet,
  TokenStore,
  ValidationResult,
} from '../src/index.js';
import * as sdk from '../src/index.js';

const TYPE_NAMES = [
  'AuthStatus',
  'CircuitBreakerOptions',
  'ValidationResult',
  'TokenSet',
  'TokenStore',
  'TokenLock',
  'HeldLock',
  'Logger',
  'RequestOptions',
  'ChatOptions',
  'LoginOptions',
  'Profile',
  'CreatedApiKey',
  'HeadlessVerdict',
  'ConfigSource',
  'ResolvedConfig',
];

const ERROR_CLASSES = [
  'MeshError',
  'ConfigError',
  'AuthenticationError',
  'ReauthenticationRequiredError',
  'LoginError',
  'ImageInputError',
  'NetworkError',
  'TimeoutError',
  'AbortError',
  'ServerError',
  'BadRequestError',
  'NotFoundError',
  'ResponseValidationError',
  'KeychainError',
  'RateLimitError',
  'CircuitOpenError',
  'StreamInterruptedError',
  'UnsupportedByBackendError',
  'UnsupportedRuntimeError',
  'TokenStoreConflictError',
  'TokenStoreRecordError',
  'SealedRecordError',
  'TokenStoreError',
  'RedirectRefusedError',
];

/**
 * The whole export list, reviewed name by name (issue 22; CHANGELOG.md, "Unreleased"): a name added or
 * removed must be added or removed here too, on purpose.
 */
const REVIEWED_EXPORTS = [
  'AbortError',
  'ApiKeyInfo',
  'Auth0Options',
  'AuthFlowCallbacks',
  'AuthStatus',
  'AuthenticationError',
  'BadRequestError',
  'ChatContentPart',
  'ChatMessage',
  'ChatOptions',
  'ChatResponse',
  'ChatStreamResult',
  'CredentialKind',
  'ChatUsage',
  'CircuitBreakerOptions',
  'CircuitOpenError',
  'ConfigError',
  'ConfigProblem',
  'ConfigReport',
  'ConfigSource',
  'CreatedApiKey',
  'DeviceVerification',
  'EnvStore',
  'EnvStoreOptions',
  'ErrorCode',
  'FileStore',
  'FileStoreOptions',
  'GenerateImageOptions',
  'GeneratedImage',
  'HeadlessVerdict',
  'HeldLock',
  'ImageInput',
  'ImageInputError',
  'KeychainError',
  'KeychainStore',
  'KeychainStoreOptions',
  'Logger',
  'LoginError',
  'LoginOptions',
  'MemoryStore',
  'MeshClient',
  'MeshClientOptions',
  'MeshError',
  'MeshErrorDetails',
  'NetworkError',
  'NotFoundError',
  'Profile',
  'RateLimitError',
  'RateLimitInfo',
  'ReauthenticationRequiredError',
  'RedirectRefusedError',
  'RedisClientLike',
  'RedisStoreInspection',
  'RedisTokenStore',
  'RedisTokenStoreOptions',
  'RedisUrl',
  'RequestOptions',
  'ResolvedConfig',
  'ResponseValidationError',
  'SealedRecordError',
  'ServerError',
  'StreamInterruptedError',
  'TimeoutError',
  'TokenLock',
  'TokenProvider',
  'TokenSet',
  'TokenStore',
  'TokenStoreConflictError',
  'TokenStoreError',
  'TokenStoreKind',
  'TokenStoreRecordError',
  'UnsupportedByBackendError',
  'UnsupportedRuntimeError',
  'ValidationResult',
  'chat',
  'chatStream',
  'defaultModelFor',
  'defaultRedisKey',
  'generateApiKey',
  'generateImage',
  'getDefaultClient',
  'getKey',
  'inspectConfig',
  'listKeys',
  'redact',
  'redisTokenStore',
  'resolveConfig',
  'storeKey',
];

/** Names taken out in issue 22: shadow and internal types (MeshClientOptions is the one options type), the old login channel. */
const REMOVED = ['ConfigInput', 'ConfigOptions', 'CustomTokenStore', 'LOGIN_CHANNEL', 'LoginEvent'];

/** The names src/index.ts exports, as the compiler resolves them (types included). */
function exportedNames(): Set<string> {
  const index = join(import.meta.dirname, '..', 'src', 'index.ts');
  // The project's own compiler options, so that names resolve as `tsc` resolves them.
  const configPath = join(import.meta.dirname, '..', 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, join(import.meta.dirname, '..'));
  const program = ts.createProgram([index], { ...options, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(index);
  const symbol = file && checker.getSymbolAtLocation(file);
  if (!symbol) throw new Error('src/index.ts did not resolve');
  return new Set(checker.getExportsOfModule(symbol).map((each) => each.name));
}

describe('src/index.ts', () => {
  it('exports every public type a user needs to name', () => {
    const names = exportedNames();
    expect(TYPE_NAMES.filter((name) => !names.has(name))).toEqual([]);
  }, 30_000);

  it('exports exactly the reviewed names, and none of those taken out', () => {
    const names = [...exportedNames()].sort();
    expect(names).toEqual([...REVIEWED_EXPORTS].sort());
    expect(REMOVED.filter((name) => names.includes(name))).toEqual([]);
  }, 30_000);

  it('exports every error class, each a MeshError, and ErrorCode', () => {
    const values = sdk as unknown as Record<string, unknown>;
    for (const name of ERROR_CLASSES) {
      const value = values[name];
      expect(typeof value, name).toBe('function');
      expect(value === sdk.MeshError || (value as { prototype: unknown }).prototype instanceof sdk.MeshError, name).toBe(true);
    }
    // Every MeshError subclass the index exports is in the list above (a new one must be added).
    const exportedErrors = Object.entries(values)
      .filter(([, value]) => value === sdk.MeshError || (typeof value === 'function' && value.prototype instanceof sdk.MeshError))
      .map(([name]) => name);
    expect(exportedErrors.sort()).toEqual([...ERROR_CLASSES].sort());
    expect(Object.values(sdk.ErrorCode)).toContain('login_failed');
  });

  it('gives the types the shapes users rely on (checked by tsc)', () => {
    expectTypeOf<TokenSet>().toHaveProperty('access_token');
    expectTypeOf<TokenStore>().toHaveProperty('load');
    expectTypeOf<TokenLock>().toHaveProperty('acquire');
    expectTypeOf<HeldLock>().toBeObject();
    expectTypeOf<Logger>().toHaveProperty('warn');
    expectTypeOf<AuthStatus>().toBeObject();
    expectTypeOf<CircuitBreakerOptions>().toBeObject();
    expectTypeOf<ValidationResult>().toBeObject();
    expectTypeOf<RequestOptions>().toHaveProperty('signal');
    expectTypeOf<ChatOptions>().toMatchTypeOf<RequestOptions>();
    expectTypeOf<LoginOptions>().toBeObject();
    expectTypeOf<Profile>().toHaveProperty('id');
    expectTypeOf<CreatedApiKey>().toBeObject();
    expectTypeOf<HeadlessVerdict>().toHaveProperty('headless');
    expectTypeOf<ConfigSource>().toEqualTypeOf<'option' | 'env' | 'file' | 'default' | 'backend'>();
    expectTypeOf<ResolvedConfig>().toHaveProperty('apiUrl');
    expectTypeOf<sdk.MeshError['code']>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<sdk.LoginError['serverCode']>().toEqualTypeOf<string | undefined>();
  });
});
