import { z } from 'zod';

/**
 * zod schemas that turn one raw value (an option, or an environment string) into a setting.
 * Each comes with the words used in a `ConfigError` for "what was expected".
 */
export interface ValueParser<T> {
  readonly schema: z.ZodType<T>;
  readonly expected: string;
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
  schema: z.union([
    z.boolean(),
    z.string().transform((raw, ctx) => {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      ctx.addIssue({ code: 'custom', message: 'not a boolean' });
      return z.NEVER;
    }),
  ]),
};

/**
 * `MESH_HEADLESS`: a boolean, or `auto` (the Python SDK's default, config.py 1.5.5) meaning
 * "detect"; `auto` resolves to undefined.
 */
export const headlessValue: ValueParser<boolean | undefined> = {
  expected: `auto, or ${booleanValue.expected}`,
  schema: z.union([
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.literal('auto'))
      .transform(() => undefined),
    booleanValue.schema,
  ]),
};

function integerIn(min: number, max: number, noun: string): ValueParser<number> {
  const bounded = z.number().int().min(min).max(max);
  return {
    expected: `${noun} from ${min} to ${max}`,
    schema: z.union([bounded, z.string().trim().regex(/^\d+$/).transform(Number).pipe(bounded)]),
  };
}

export const portValue = integerIn(1, 65535, 'a port number');
export const millisecondsValue = integerIn(1, 24 * 60 * 60 * 1000, 'a whole number of milliseconds');
export const retriesValue = integerIn(0, 10, 'a whole number of retries');
export const secondsValue = integerIn(0, 24 * 60 * 60, 'a whole number of seconds');

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
  schema: z.string().transform((raw, ctx) => {
    const url = secureUrl(raw);
    if (url === undefined) ctx.addIssue({ code: 'custom', message: 'bad url' });
    return url ?? z.NEVER;
  }),
};

/**
 * Auth0 domain: a host name (https assumed) or a full origin. Returns the origin, e.g.
 * `https://dev-x.us.auth0.com` or `http://127.0.0.1:4000` for the local stack.
 */
export const auth0DomainValue: ValueParser<string> = {
  expected:
    'a host name such as tenant.us.auth0.com, or an origin such as https://tenant.us.auth0.com (http:// only for loopback)',
  schema: z.string().transform((raw, ctx) => {
    const text = raw.trim();
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
    const url = secureUrl(withScheme);
    const isOrigin = url !== undefined && new URL(url).pathname === '/';
    if (!isOrigin || /\s/.test(text)) ctx.addIssue({ code: 'custom', message: 'bad domain' });
    return isOrigin ? new URL(url).origin : z.NEVER;
  }),
};

export const directoryValue: ValueParser<string> = {
  expected: 'a directory path',
  schema: z
    .string()
    .trim()
    .min(1)
    .refine((path) => !path.includes('\0')),
};

export const nonEmptyValue: ValueParser<string> = {
  expected: 'a non-empty string without spaces',
  schema: z.string().trim().regex(/^\S+$/),
};

/**
 * A Mesh API key: `mesh_` and an opaque rest (`mesh_pk_...`, `mesh_yourapikey123456`). The Python
 * SDK checks only the prefix and the server keeps a hash, so no length or alphabet is assumed;
 * only whitespace inside is refused (it cannot travel in a header).
 */
export const apiKeyValue: ValueParser<string> = {
  expected: 'a Mesh API key: mesh_ followed by the rest of the key, without spaces',
  schema: z
    .string()
    .trim()
    .regex(/^mesh_\S+$/),
};

/** A chat provider name as the backend takes it: lower case (`openai`, `anthropic`, `google`). */
export const providerValue: ValueParser<string> = {
  expected: 'a provider name such as openai, anthropic or google',
  schema: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9._-]*$/),
};

/** A model name, sent as given (`gpt-4o`, `claude-3-7-sonnet-20250219`). */
export const modelValue: ValueParser<string> = {
  expected: 'a model name without spaces, such as gpt-4o',
  schema: nonEmptyValue.schema,
};

export const TOKEN_STORE_KINDS = ['auto', 'keychain', 'file', 'env', 'memory'] as const;
export type TokenStoreKind = (typeof TOKEN_STORE_KINDS)[number];

export const tokenStoreKindValue: ValueParser<TokenStoreKind> = {
  expected: `one of ${TOKEN_STORE_KINDS.join(', ')}`,
  schema: z.string().trim().toLowerCase().pipe(z.enum(TOKEN_STORE_KINDS)),
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
