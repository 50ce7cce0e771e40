/**
 * The shared token-set format (snake_case, `expires_at` in epoch seconds), read leniently where
 * leniency saves a refresh token, built from the backend's token replies, and written back with
 * every field it was read with: the Python SDK shares the same file and keychain slot, and what it
 * wrote (`auth_source`, `expires_in`, anything newer) must survive our rewrites.
 */

import {
  isFiniteNumber,
  kindOf,
  optionalString,
  type ReplyShape,
  refuse,
  replyShape,
  requiredText,
  textOrUndefined,
} from '../../http/hand-checks.js';
import { isObject } from '../../internal/json-text.js';
import { jwtExpiry } from '../../internal/jwt.js';
import type { TokenSet } from '../stores/token-store.js';

export class TokenSetFormatError extends Error {}

/** The fields `TokenSet` names; every other stored field is carried along untouched. */
const KNOWN_FIELDS = new Set(['access_token', 'refresh_token', 'id_token', 'token_type', 'expires_at', 'scope', 'auth_source']);

/**
 * Unknown stored fields ride on the set under this symbol: invisible to the public type and to
 * JSON.stringify, yet copied by every `{ ...tokens }` (spread copies enumerable symbol keys), so
 * a set keeps them through the token manager's copies and comes back to `serializeTokenSet`.
 */
const EXTRA_FIELDS: unique symbol = Symbol('mesh-sdk.extraTokenFields');
type WithExtras = TokenSet & { [EXTRA_FIELDS]?: Readonly<Record<string, unknown>> };

/** The unknown fields a stored set was read with (empty for sets built here). */
export function extraFieldsOf(tokens: TokenSet): Readonly<Record<string, unknown>> {
  return (tokens as WithExtras)[EXTRA_FIELDS] ?? {};
}

function withExtras(tokens: TokenSet, extras: Readonly<Record<string, unknown>>): TokenSet {
  if (Object.keys(extras).length > 0) (tokens as WithExtras)[EXTRA_FIELDS] = extras;
  return tokens;
}

/** A copy of `tokens` whose unknown fields are exactly `extras` (a field of this SDK's own bookkeeping added or removed). */
export function withExtraFields(tokens: TokenSet, extras: Readonly<Record<string, unknown>>): TokenSet {
  const copy: WithExtras = { ...tokens };
  delete copy[EXTRA_FIELDS];
  return withExtras(copy, extras);
}

/**
 * The object a store writes: the unknown fields the set was read with, then every known field
 * that is set (known fields win). `expires_at` is an integer number of epoch seconds: the Python
 * SDK computes `time.time() < expires_at - 300`, which a string would break.
 */
export function serializeTokenSet(tokens: TokenSet): Record<string, unknown> {
  const known: Record<string, unknown> = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    id_token: tokens.id_token,
    token_type: tokens.token_type,
    expires_at: Number.isFinite(tokens.expires_at) ? Math.floor(tokens.expires_at) : 0,
    scope: tokens.scope,
    auth_source: tokens.auth_source,
  };
  for (const key of Object.keys(known)) if (known[key] === undefined) delete known[key];
  return { ...extraFieldsOf(tokens), ...known };
}

/** `serializeTokenSet` as JSON text. */
export function tokenSetJson(tokens: TokenSet, space?: number): string {
  return JSON.stringify(serializeTokenSet(tokens), null, space);
}

/**
 * What a stored set must be: at least one usable credential. `expires_at` may arrive as a number
 * (the Python SDK writes an int; a float is read too), a numeric string (older writers) or be
 * missing: then the JWT's own exp decides, else "expired", which makes the manager refresh: the
 * refresh token is kept, never discarded for a bad date. A bad optional field is dropped, not fatal.
 * @throws TokenSetFormatError naming the first problem.
 */
function checkStored(value: unknown): { raw: Record<string, unknown>; expiresAt: number | string | null | undefined } {
  if (!isObject(value)) throw new TokenSetFormatError(`expected a JSON object, got ${kindOf(value)}`);
  const access = value.access_token;
  if (access !== undefined && typeof access !== 'string') {
    throw new TokenSetFormatError(`access_token: expected a string, got ${kindOf(access)}`);
  }
  const expiresAt = value.expires_at;
  if (!(expiresAt === undefined || expiresAt === null || typeof expiresAt === 'string' || isFiniteNumber(expiresAt))) {
    throw new TokenSetFormatError(`expires_at: expected a number or a string, got ${kindOf(expiresAt)}`);
  }
  if (!access && !textOrUndefined(value.refresh_token)) {
    throw new TokenSetFormatError('neither access_token nor refresh_token is a non-empty string');
  }
  return { raw: value, expiresAt };
}

function expiryFrom(raw: number | string | null | undefined, accessToken: string): number {
  const stated = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const fromJwt = accessToken ? jwtExpiry(accessToken) : undefined;
  const candidates = [typeof stated === 'number' && Number.isFinite(stated) ? stated : undefined, fromJwt].filter(
    (value): value is number => value !== undefined,
  );
  // The earlier of the stored expiry and the JWT's exp (architecture.md, Tokens).
  return candidates.length === 0 ? 0 : Math.floor(Math.min(...candidates));
}

/** Parses a stored token set (file, keychain). @throws TokenSetFormatError naming what is wrong. */
export function parseStoredTokenSet(value: unknown): TokenSet {
  const { raw, expiresAt } = checkStored(value);
  const accessToken = (raw.access_token as string | undefined) ?? '';
  const tokens: TokenSet = { access_token: accessToken, expires_at: expiryFrom(expiresAt, accessToken) };
  const refreshToken = textOrUndefined(raw.refresh_token);
  if (refreshToken) tokens.refresh_token = refreshToken;
  const idToken = textOrUndefined(raw.id_token);
  if (idToken) tokens.id_token = idToken;
  const tokenType = textOrUndefined(raw.token_type);
  if (tokenType) tokens.token_type = tokenType;
  const scope = textOrUndefined(raw.scope);
  if (scope) tokens.scope = scope;
  const authSource = textOrUndefined(raw.auth_source);
  if (authSource) tokens.auth_source = authSource;
  const extras = Object.fromEntries(Object.entries(raw).filter(([key]) => !KNOWN_FIELDS.has(key)));
  return withExtras(tokens, extras);
}

/** Parses stored JSON text. @throws TokenSetFormatError */
export function parseStoredTokenJson(text: string): TokenSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenSetFormatError('the text is not valid JSON');
  }
  return parseStoredTokenSet(value);
}

/** The contract's token reply (`/auth/exchange-token`, `/auth/refresh-token`, `/auth/token-status`). */
export interface TokenReply {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  /** Seconds, >= 0. */
  expires_in: number;
  scope?: string;
}

/** Checks a token reply; unknown fields are left out of what it answers. */
export const tokenReplySchema: ReplyShape<TokenReply> = replyShape((body) => {
  const reply: TokenReply = { access_token: requiredText(body, 'access_token'), expires_in: 0 };
  const refreshToken = optionalString(body, 'refresh_token', true);
  if (refreshToken !== undefined) reply.refresh_token = refreshToken;
  const idToken = optionalString(body, 'id_token', true);
  if (idToken !== undefined) reply.id_token = idToken;
  const tokenType = optionalString(body, 'token_type');
  if (tokenType !== undefined) reply.token_type = tokenType;
  if (!isFiniteNumber(body.expires_in) || body.expires_in < 0) refuse('expires_in', 'a number >= 0', body.expires_in);
  reply.expires_in = body.expires_in;
  const scope = optionalString(body, 'scope');
  if (scope !== undefined) reply.scope = scope;
  return reply;
});

/**
 * A token set from a backend reply received at `nowSeconds` (corrected clock). A reply without a
 * refresh token keeps the previous one (backend-contract.md: absent means "keep the old one").
 *
 * Pass the `previous` set itself on a refresh (a login passes nothing): the new set then stays in
 * its family, keeping its `auth_source` (so the next refresh sends the same `client_type`) and the
 * fields this SDK does not know, for the Python SDK that shares the slot. A string is the previous
 * refresh token alone (older call sites).
 */
export function tokenSetFromReply(reply: TokenReply, nowSeconds: number, previous?: string | TokenSet): TokenSet {
  const prior = typeof previous === 'object' ? previous : undefined;
  const tokens: TokenSet = {
    access_token: reply.access_token,
    token_type: reply.token_type ?? 'Bearer',
    expires_at: expiryFrom(nowSeconds + reply.expires_in, reply.access_token),
  };
  const refreshToken = reply.refresh_token ?? (typeof previous === 'string' ? previous : prior?.refresh_token);
  if (refreshToken) tokens.refresh_token = refreshToken;
  const idToken = reply.id_token ?? prior?.id_token;
  if (idToken) tokens.id_token = idToken;
  const scope = reply.scope ?? prior?.scope;
  if (scope) tokens.scope = scope;
  if (prior?.auth_source) tokens.auth_source = prior.auth_source;
  const extras = { ...extraFieldsOf(prior ?? tokens) };
  // The Python SDK stores the reply whole: keep its `expires_in` true to the new reply.
  if (prior && 'expires_in' in extras) extras.expires_in = reply.expires_in;
  return withExtras(tokens, prior ? extras : {});
}
