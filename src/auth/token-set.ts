/**
 * The shared token-set format (snake_case, `expires_at` in epoch seconds), read leniently where
 * leniency saves a refresh token, and built from the backend's token replies.
 */
import { z } from 'zod';
import { jwtExpiry } from '../internal/jwt.js';
import type { TokenSet } from './token-store.js';

export class TokenSetFormatError extends Error {}

const optionalText = z.string().min(1).optional().catch(undefined);

// A stored set must hold at least one usable credential. `expires_at` may arrive as a number, a
// numeric string (older writers) or be missing: then the JWT's own exp decides, else "expired",
// which makes the manager refresh: the refresh token is kept, never discarded for a bad date.
const storedShape = z
  .object({
    access_token: z.string().optional(),
    refresh_token: optionalText,
    id_token: optionalText,
    token_type: optionalText,
    scope: optionalText,
    expires_at: z.union([z.number(), z.string(), z.null()]).optional(),
  })
  .refine((t) => Boolean(t.access_token) || Boolean(t.refresh_token), {
    message: 'neither access_token nor refresh_token is a non-empty string',
  });

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
  const result = storedShape.safeParse(value);
  if (!result.success) {
    throw new TokenSetFormatError(result.error.issues[0]?.message ?? 'not a token set');
  }
  const raw = result.data;
  const accessToken = raw.access_token ?? '';
  const tokens: TokenSet = { access_token: accessToken, expires_at: expiryFrom(raw.expires_at, accessToken) };
  if (raw.refresh_token) tokens.refresh_token = raw.refresh_token;
  if (raw.id_token) tokens.id_token = raw.id_token;
  if (raw.token_type) tokens.token_type = raw.token_type;
  if (raw.scope) tokens.scope = raw.scope;
  return tokens;
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
export const tokenReplySchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  id_token: z.string().min(1).optional(),
  token_type: z.string().optional(),
  expires_in: z.number().nonnegative(),
  scope: z.string().optional(),
});
export type TokenReply = z.infer<typeof tokenReplySchema>;

/**
 * A token set from a backend reply received at `nowSeconds` (corrected clock). A reply without a
 * refresh token keeps the previous one (backend-contract.md: absent means "keep the old one").
 */
export function tokenSetFromReply(reply: TokenReply, nowSeconds: number, previousRefreshToken?: string): TokenSet {
  const tokens: TokenSet = {
    access_token: reply.access_token,
    token_type: reply.token_type ?? 'Bearer',
    expires_at: expiryFrom(nowSeconds + reply.expires_in, reply.access_token),
  };
  const refreshToken = reply.refresh_token ?? previousRefreshToken;
  if (refreshToken) tokens.refresh_token = refreshToken;
  if (reply.id_token) tokens.id_token = reply.id_token;
  if (reply.scope) tokens.scope = reply.scope;
  return tokens;
}
