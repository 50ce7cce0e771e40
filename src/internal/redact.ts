/**
 * One place that scrubs secrets out of any text before it reaches an error message or a log line.
 *
 * Patterns, not a list of known values: a message built from a server reply can hold a token this
 * process never saw. Each replacement keeps enough shape (`Bearer`, `mesh_`, the field name) for a
 * reader to see what was there.
 */

const REDACTED = '[REDACTED]';

// Field names whose values are secrets, in JSON (`"code":"x"`), forms and queries (`code=x`),
// and prose/headers (`refresh_token: x`).
const SECRET_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'device_code',
  'code_verifier',
  'code',
  'client_secret',
  'password',
  'key_value',
  'keyValue',
  'x-api-key',
  'api_key',
  'apiKey',
  'accessToken',
  'refreshToken',
  'idToken',
  'codeVerifier',
  'MESH_ACCESS_TOKEN',
  'MESH_REFRESH_TOKEN',
  'MESH_API_KEY',
].join('|');
const PROSE_FIELDS = SECRET_FIELDS.split('|')
  .filter((field) => field !== 'code')
  .join('|');

const RULES: ReadonlyArray<readonly [RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // "field": "value" (JSON, possibly escaped inside another JSON string)
  [new RegExp(`(\\\\?"(?:${SECRET_FIELDS})\\\\?"\\s*:\\s*\\\\?")[^"\\\\]*`, 'g'), `$1${REDACTED}`],
  // field=value in queries, forms, shell exports; stops at & whitespace quote or end
  [new RegExp(`(\\b(?:${SECRET_FIELDS})=)[^&\\s"'<>]+`, 'g'), `$1${REDACTED}`],
  // field: value in prose and headers (not bare `code:`, which prose uses for error codes)
  [new RegExp(`(\\b(?:${PROSE_FIELDS}):\\s*)[^\\s,;"'}]+`, 'g'), `$1${REDACTED}`],
  // Authorization headers: Bearer, Basic, and the deployed backend's `ApiKey <key>`
  [/\b(Bearer|Basic|ApiKey)\s+[A-Za-z0-9\-._~+/]+=*/g, `$1 ${REDACTED}`],
  // JWTs (JWS compact: header.payload.signature; the header always starts with eyJ = '{"')
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, '[REDACTED_JWT]'],
  // Prose naming a credential and then quoting it: "refresh token v1.MRr...", "api key: abc123...".
  // The value is a long run of token characters; a plain lower-case word ("internationalization") stays.
  [
    /\b((?:refresh|access|id|bearer)[ _-]?tokens?|api[ _-]?keys?|authorization[ _-]codes?|device[ _-]codes?|client[ _-]secrets?|key[ _-]values?)(\s*(?:is|was|of|=|:)?\s*["'`]?)([A-Za-z0-9\-._~+/]{16,}=*)/gi,
    (match: string, field: string, between: string, value: string) =>
      /^[a-z]+$/.test(value) ? match : `${field}${between}${REDACTED}`,
  ],
  // Mesh API keys: `mesh_` + an opaque tail of no fixed length (`mesh_pk_...`, `mesh_yourapikey123456`);
  // 8 characters at least, so that names like `.mesh_token.json` stay readable.
  [/\bmesh_[A-Za-z0-9_-]{8,}/g, `mesh_${REDACTED}`],
];

/** Returns `text` with bearer tokens, JWTs, refresh tokens, codes, verifiers and `mesh_` keys removed. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as string);
  return out;
}

/** Describes a secret without showing it: for "what value did we get" in error messages. */
export function describeSecret(value: string): string {
  return `(a secret of ${value.length} characters, not shown)`;
}
