/**
 * Parsers that turn one raw value (an option, or an environment string) into a setting, each with
 * the words used in a `ConfigError` for "what was expected". Written by hand rather than as zod
 * schemas: they are small, and building schemas at module load was most of the SDK's import time
 * (docs/performance.md, "Cold start and first call").
 */
export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export interface ValueParser<T> {
  readonly expected: string;
  /** The setting, or `{ ok: false }`; never throws, whatever `raw` is. */
  parse(raw: unknown): ParseResult<T>;
}

const REFUSED: ParseResult<never> = Object.freeze({ ok: false });

function accepted<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

/** A string checked after trimming (and lower-casing when asked): the trimmed text, or refused. */
function trimmedMatching(pattern: RegExp, lowerCase = false): (raw: unknown) => ParseResult<string> {
  return (raw) => {
    if (typeof raw !== 'string') return REFUSED;
    const text = lowerCase ? raw.trim().toLowerCase() : raw.trim();
    return pattern.test(text) ? accepted(text) : REFUSED;
  };
}

// The Python SDK's truthy words are true/1/yes/y (config.py 1.5.5) and it reads anything else as
// false; we take its words, their opposites and on/off, and still refuse a typo instead of guessing.
const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off']);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for localhost, 127.0.0.0/8 and ::1: the only hosts where plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

export const booleanValue: ValueParser<boolean> = {
  expected: 'one of true/false, 1/0, yes/no, y/n, on/off',
  parse(raw) {
    if (typeof raw === 'boolean') return accepted(raw);
    if (typeof raw !== 'string') return REFUSED;
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return accepted(true);
    if (FALSE_WORDS.has(word)) return accepted(false);
    return REFUSED;
  },
};

/**
 * `MESH_HEADLESS`: a boolean, or `auto` (the Python SDK's default, config.py 1.5.5) meaning
 * "detect"; `auto` resolves to undefined.
 */
export const headlessValue: ValueParser<boolean | undefined> = {
  expected: `auto, or ${booleanValue.expected}`,
  parse(raw) {
    if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return accepted(undefined);
    return booleanValue.parse(raw);
  },
};

/** A whole number in [min, max], given as a number or as a string of digits (surrounding spaces allowed). */
function integerIn(min: number, max: number, noun: string): ValueParser<number> {
  const inRange = (value: number) => Number.isSafeInteger(value) && value >= min && value <= max;
  return {
    expected: `${noun} from ${min} to ${max}`,
    parse(raw) {
      if (typeof raw === 'number') return inRange(raw) ? accepted(raw) : REFUSED;
      if (typeof raw !== 'string') return REFUSED;
      const text = raw.trim();
      if (!/^\d+$/.test(text)) return REFUSED;
      const value = Number(text);
      return inRange(value) ? accepted(value) : REFUSED;
    },
  };
}

export const portValue = integerIn(1, 65535, 'a port number');
export const millisecondsValue = integerIn(1, 24 * 60 * 60 * 1000, 'a whole number of milliseconds');
export const retriesValue = integerIn(0, 10, 'a whole number of retries');
export const secondsValue = integerIn(0, 24 * 60 * 60, 'a whole number of seconds');
export const bytesValue = integerIn(1024, 2 ** 31, 'a whole number of bytes, at least 1024');

/** Parses a URL allowed to carry credentials: https anywhere, http only on loopback. Returns the origin plus path, no trailing slash. */
function secureUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!secure || url.username || url.password || url.search || url.hash) return undefined;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export const apiUrlValue: ValueParser<string> = {
  expected: 'an https:// URL (http:// only for localhost, 127.0.0.1 or [::1]), without query or credentials',
  parse(raw) {
    const url = typeof raw === 'string' ? secureUrl(raw) : undefined;
    return url === undefined ? REFUSED : accepted(url);
  },
};

/**
 * Auth0 domain: a host name (https assumed) or a full origin. Returns the origin, e.g.
 * `https://dev-x.us.auth0.com` or `http://127.0.0.1:4000` for the local stack.
 */
export const auth0DomainValue: ValueParser<string> = {
  expected:
    'a host name such as tenant.us.auth0.com, or an origin such as https://tenant.us.auth0.com (http:// only for loopback)',
  parse(raw) {
    if (typeof raw !== 'string') return REFUSED;
    const text = raw.trim();
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
    const url = secureUrl(withScheme);
    if (url === undefined || /\s/.test(text)) return REFUSED;
    const parsed = new URL(url);
    return parsed.pathname === '/' ? accepted(parsed.origin) : REFUSED;
  },
};

export const directoryValue: ValueParser<string> = {
  expected: 'a directory path',
  parse: trimmedMatching(/^[^\0]+$/),
};

export const filePathValue: ValueParser<string> = {
  expected: 'a file path',
  parse: trimmedMatching(/^[^\0]+$/),
};

export const nonEmptyValue: ValueParser<string> = {
  expected: 'a non-empty string without spaces',
  parse: trimmedMatching(/^\S+$/),
};

/**
 * A Mesh API key: `mesh_` and an opaque rest (`mesh_pk_...`, `mesh_yourapikey123456`). The Python
 * SDK checks only the prefix and the server keeps a hash, so no length or alphabet is assumed;
 * only whitespace inside is refused (it cannot travel in a header).
 */
export const apiKeyValue: ValueParser<string> = {
  expected: 'a Mesh API key: mesh_ followed by the rest of the key, without spaces',
  parse: trimmedMatching(/^mesh_\S+$/),
};

/** A chat provider name as the backend takes it: lower case (`openai`, `anthropic`, `google`). */
export const providerValue: ValueParser<string> = {
  expected: 'a provider name such as openai, anthropic or google',
  parse: trimmedMatching(/^[a-z0-9][a-z0-9._-]*$/, true),
};

/** A model name, sent as given (`gpt-4o`, `claude-3-7-sonnet-20250219`). */
export const modelValue: ValueParser<string> = {
  expected: 'a model name without spaces, such as gpt-4o',
  parse: nonEmptyValue.parse,
};

export const TOKEN_STORE_KINDS = ['auto', 'keychain', 'file', 'env', 'memory'] as const;
/** A built-in token store by name, as `tokenStore` or `MESH_TOKEN_STORE` takes it (the other form is a Redis URL). */
export type TokenStoreKind = (typeof TOKEN_STORE_KINDS)[number];

export const tokenStoreKindValue: ValueParser<TokenStoreKind> = {
  expected: `one of ${TOKEN_STORE_KINDS.join(', ')}, or a Redis URL (redis://host:port/db)`,
  parse(raw) {
    if (typeof raw !== 'string') return REFUSED;
    const kind = raw.trim().toLowerCase();
    return (TOKEN_STORE_KINDS as readonly string[]).includes(kind) ? accepted(kind as TokenStoreKind) : REFUSED;
  },
};

/** A Redis URL as `MESH_TOKEN_STORE` or the `tokenStore` option takes it. */
export type RedisUrl = `redis://${string}` | `rediss://${string}`;

/** What a resolved configuration's `tokenStore` names: a kind, or `redis` (its URL in `tokenStoreUrl`). */
export type ResolvedTokenStoreKind = TokenStoreKind | 'redis';

/** The form a Redis URL must have, for messages. */
export const REDIS_URL_FORM = 'redis://[user:password@]host:port/db, or rediss://... for TLS (e.g. redis://127.0.0.1:6379/0)';

/** Whether a `tokenStore` value is meant as a Redis URL (then it is parsed as one, not as a kind). */
export function looksLikeRedisUrl(raw: string): boolean {
  return /^\s*rediss?:/i.test(raw);
}

/**
 * A Redis URL for messages: its password replaced by `***`. A value that does not parse may hold a
 * password anywhere, so it is not shown at all then, only its length.
 */
/**
 * A bad value as an error may show it: a URL with its user info masked and its query and fragment
 * left out (either may carry a token or a password); anything else as it is.
 */
export function showValueSafely(raw: unknown): string {
  if (typeof raw !== 'string' || !/^\s*[a-z][a-z0-9+.-]*:/i.test(raw)) return JSON.stringify(raw);
  try {
    const url = new URL(raw.trim());
    if (!url.username && !url.password && url.search === '' && url.hash === '') return JSON.stringify(raw);
    if (url.username) url.username = '***';
    if (url.password) url.password = '***';
    const hidden = url.search !== '' || url.hash !== '';
    url.search = '';
    url.hash = '';
    return `${JSON.stringify(url.toString())}${hidden ? ' (its query or fragment not shown)' : ''}`;
  } catch {
    return /[@?#]/.test(raw) ? `(a value of ${raw.length} characters, not shown: it may hold a secret)` : JSON.stringify(raw);
  }
}

/** A Redis URL with its password masked, or undefined when it is not a URL. */
export function maskedRedisUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw.trim());
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return undefined;
  }
}

export function showRedisUrl(raw: string): string {
  const masked = maskedRedisUrl(raw);
  if (masked !== undefined) return JSON.stringify(masked);
  return raw.includes('@') ? `(a value of ${raw.length} characters, not shown: it may hold a password)` : JSON.stringify(raw);
}

/** `redis://` or `rediss://`, a host, an optional port and an optional database number; returned trimmed. */
export const redisUrlValue: ValueParser<string> = {
  expected: REDIS_URL_FORM,
  parse(raw) {
    if (typeof raw !== 'string') return REFUSED;
    const text = raw.trim();
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    const ok =
      url !== undefined &&
      (url.protocol === 'redis:' || url.protocol === 'rediss:') &&
      url.hostname !== '' &&
      /^(\/\d*)?$/.test(url.pathname) &&
      url.search === '' &&
      url.hash === '' &&
      !/\s/.test(text);
    return ok ? accepted(text) : REFUSED;
  },
};

/** `MESH_TOKEN_KEY`: a 256-bit sealing key written as 64 hexadecimal characters. */
export const sealingKeyValue: ValueParser<string> = {
  expected: 'a 256-bit key written as 64 hexadecimal characters (`openssl rand -hex 32`)',
  parse: trimmedMatching(/^[0-9a-fA-F]{64}$/),
};

/** `MESH_TOKEN_STORE_KEY`: the Redis key holding the token set. */
export const redisKeyValue: ValueParser<string> = {
  expected: 'a Redis key name without spaces, such as mesh-sdk:tokens:production',
  parse: nonEmptyValue.parse,
};

/**
 * DEBUG is shared with other libraries (`DEBUG=express:*`), so a value that is not for us turns
 * logging off rather than failing: on for the Python SDK's true/1/yes/y (config.py 1.5.5), `on`,
 * or a pattern that names mesh (`mesh*`, `*`).
 */
export function debugFromEnv(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(value)) return true;
  return value.split(/[\s,]+/).some((pattern) => pattern === '*' || (pattern.startsWith('mesh') && !pattern.startsWith('-')));
}
