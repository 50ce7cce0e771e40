/**
 * What a request presents: a token (Bearer or DPoP scheme, RFC 6750 §2.1 and RFC 9449 §7.1), a
 * `mesh_` API key (`Authorization: ApiKey <key>` or `x-api-key`, as the Mesh clients send it), or
 * nothing; and, for DPoP, the proof, the method and the absolute URL. Reads a Fetch `Request`
 * (Workers, Bun, Deno, Hono), a Node `IncomingMessage`, an Express or a Fastify request (duck-typed:
 * no framework is imported), an `Authorization` header value, or a bare token.
 */
import { refused } from './errors.js';

/** A Node, Express or Fastify request, as far as the verifier reads it. */
export interface NodeLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  /** Express: the URL before routers cut it. */
  originalUrl?: string;
  /** Express and Fastify: `http` or `https` (they honour their trust-proxy setting). */
  protocol?: string;
  /** Fastify 5: the host (with port). */
  host?: string;
  /** Node: a TLS socket has `encrypted: true`. */
  socket?: unknown;
}

/** A Fetch API request (or anything with the same three members). */
export interface FetchLikeRequest {
  headers: { get(name: string): string | null };
  method: string;
  url: string;
}

/** What `verify` takes: a bare token, an `Authorization` header value, or a request. */
export type VerifyInput = string | FetchLikeRequest | NodeLikeRequest | null | undefined;

/** Per-call details for a bare token or header (a request carries its own). */
export interface PresentedExtras {
  /** The DPoP proof (the request's `DPoP` header). */
  dpop?: string;
  /** The request's method, for a DPoP proof's `htm`. */
  method?: string;
  /** The request's absolute URL, for a DPoP proof's `htu`. */
  url?: string;
}

export type Presented =
  | { kind: 'none' }
  | { kind: 'api_key'; key: string }
  | { kind: 'token'; token: string; scheme: 'bearer' | 'dpop'; proof: string | undefined; method?: string; url?: string };

/** Longer than this is not a token (Auth0's are 1-2 KB) nor a key. */
const MAX_CREDENTIAL_LENGTH = 16 * 1024;

function isFetchLike(input: object): input is FetchLikeRequest {
  return typeof (input as { headers?: { get?: unknown } }).headers?.get === 'function';
}

/** One header of a Node-style request; a repeated one (an array) is refused as ambiguous. */
function nodeHeader(request: NodeLikeRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) {
    if (value.length > 1) throw refused('token_malformed', `the request has several ${name} headers`);
    return value[0];
  }
  return value;
}

function nodeUrl(request: NodeLikeRequest): string | undefined {
  const path = request.originalUrl ?? request.url;
  if (path === undefined) return undefined;
  if (/^https?:\/\//i.test(path)) return path;
  const host = request.host ?? nodeHeader(request, 'host');
  if (host === undefined) return undefined;
  const protocol =
    request.protocol ?? ((request.socket as { encrypted?: boolean } | null | undefined)?.encrypted ? 'https' : 'http');
  return `${protocol}://${host}${path}`;
}

function fromAuthorization(
  header: string,
  extras: { proof: string | undefined; method?: string; url?: string; apiKeyHeader?: string },
): Presented {
  const match = /^([A-Za-z][\w.-]*)[ ]+([^\s,]+)[ ]*$/.exec(header);
  if (!match) throw refused('token_malformed', 'the Authorization header is not `<scheme> <credential>`');
  const scheme = (match[1] as string).toLowerCase();
  const value = match[2] as string;
  if (value.length > MAX_CREDENTIAL_LENGTH) throw refused('token_malformed', 'the credential is too long');
  // A `mesh_` key is never a JWT: taken as an API key whatever the scheme says.
  if (scheme === 'apikey' || value.startsWith('mesh_')) return { kind: 'api_key', key: value };
  if (scheme !== 'bearer' && scheme !== 'dpop') {
    throw refused('token_malformed', `the Authorization scheme ${match[1]} is not Bearer, DPoP or ApiKey`);
  }
  return { kind: 'token', token: value, scheme, proof: extras.proof, method: extras.method, url: extras.url };
}

/** What the input presents. @throws VerificationError `token_malformed` for an unreadable header. */
export function presented(input: VerifyInput, extras: PresentedExtras = {}): Presented {
  if (input === null || input === undefined) return { kind: 'none' };
  if (typeof input === 'string') {
    const text = input.trim();
    if (text === '') return { kind: 'none' };
    if (/\s/.test(text)) return fromAuthorization(text, { proof: extras.dpop, method: extras.method, url: extras.url });
    if (text.length > MAX_CREDENTIAL_LENGTH) throw refused('token_malformed', 'the credential is too long');
    if (text.startsWith('mesh_')) return { kind: 'api_key', key: text };
    const scheme = extras.dpop === undefined ? 'bearer' : 'dpop';
    return { kind: 'token', token: text, scheme, proof: extras.dpop, method: extras.method, url: extras.url };
  }
  if (typeof input !== 'object' || typeof (input as { headers?: unknown }).headers !== 'object' || input.headers === null) {
    return { kind: 'none' };
  }
  let authorization: string | undefined;
  let apiKey: string | undefined;
  let proof: string | undefined;
  let method: string | undefined;
  let url: string | undefined;
  if (isFetchLike(input)) {
    authorization = input.headers.get('authorization') ?? undefined;
    apiKey = input.headers.get('x-api-key') ?? undefined;
    proof = input.headers.get('dpop') ?? undefined;
    // Fetch joins repeated headers with ", ": several proofs are refused by the proof check itself.
    method = input.method;
    url = input.url;
  } else {
    const request = input as NodeLikeRequest;
    authorization = nodeHeader(request, 'authorization');
    apiKey = nodeHeader(request, 'x-api-key');
    proof = nodeHeader(request, 'dpop');
    method = request.method;
    url = nodeUrl(request);
  }
  if (authorization !== undefined && authorization.trim() !== '') {
    return fromAuthorization(authorization.trim(), { proof, method: extras.method ?? method, url: extras.url ?? url });
  }
  const key = apiKey?.trim();
  if (key) {
    if (key.length > MAX_CREDENTIAL_LENGTH) throw refused('token_malformed', 'the credential is too long');
    return { kind: 'api_key', key };
  }
  return { kind: 'none' };
}
