/**
 * Sealing a token set at rest in a shared store (issue 14): AES-256-GCM from node:crypto, a fresh
 * 96-bit IV per write, and a key id (first 8 hex of sha256 of the key) in the record, so a reader
 * with the wrong key is told "wrong key" rather than "tampered", without the key ever being shown.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ErrorCode } from '../../errors/codes.js';
import { ConfigError, MeshError } from '../../errors/mesh-error.js';
import { describeSecret } from '../../internal/redact.js';

/** The sealed part of a record: every field base64 except `kid` (hex). */
export interface SealedData {
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/** A parsed sealing key. Holds the key bytes; never log or serialise it. */
export interface SealingKey {
  /** First 8 hex characters of sha256(key): names the key without revealing it. */
  readonly kid: string;
  readonly bytes: Buffer;
}

const KEY_FORM = /^[0-9a-fA-F]{64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Binds a ciphertext to this record format: a blob sealed for something else does not open here.
const AAD = Buffer.from('mesh-sdk token set v1');

/**
 * The key from `MESH_TOKEN_KEY` (or the `sealingKey` option): 64 hex characters, 256 bits.
 * @throws ConfigError naming MESH_TOKEN_KEY and the expected form (never the value).
 */
export function parseSealingKey(hex: string): SealingKey {
  const text = hex.trim();
  if (!KEY_FORM.test(text)) {
    throw new ConfigError(
      `MESH_TOKEN_KEY must be a 256-bit key written as 64 hexadecimal characters; got ${describeSecret(text)}.`,
      { hint: 'Generate one with `openssl rand -hex 32` and give every instance that shares the store the same value.' },
    );
  }
  const bytes = Buffer.from(text, 'hex');
  return { kid: keyId(bytes), bytes };
}

function keyId(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

/** Seals `plaintext` (the token set's JSON) with `key`. */
export function seal(plaintext: string, key: SealingKey): SealedData {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { kid: key.kid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** Why a sealed record could not be opened; the hint says what to set. Never carries key material. */
export class SealedRecordError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.TOKEN_SEALING_FAILED;
  /** `no_key`: nothing to open it with; `wrong_key`: another key id; `tampered`: same key id, authentication failed. */
  readonly reason: 'no_key' | 'wrong_key' | 'tampered';

  constructor(message: string, details: { reason: SealedRecordError['reason']; hint: string }) {
    super(message, { hint: details.hint });
    this.reason = details.reason;
  }
}

/**
 * Opens a sealed record. `where` names the record in messages (e.g. the Redis key).
 * @throws SealedRecordError when there is no key, the key id differs, or authentication fails.
 */
export function unseal(sealed: SealedData, key: SealingKey | undefined, where: string): string {
  if (!key) {
    throw new SealedRecordError(`The token set at ${where} is sealed (key id ${sealed.kid}) and no sealing key is set.`, {
      reason: 'no_key',
      hint: `Set MESH_TOKEN_KEY to the 64-hex-character key the other instances use (key id ${sealed.kid}).`,
    });
  }
  if (key.kid !== sealed.kid) {
    throw new SealedRecordError(
      `The token set at ${where} is sealed with key id ${sealed.kid}, but MESH_TOKEN_KEY has key id ${key.kid}.`,
      {
        reason: 'wrong_key',
        hint: `Set MESH_TOKEN_KEY to the key with id ${sealed.kid} (the one the other instances use), or log in again to reseal the store with this key (\`npx mesh-auth logout\` first).`,
      },
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(sealed.iv, 'base64'), { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedRecordError(
      `The token set at ${where} did not authenticate with MESH_TOKEN_KEY (key id ${sealed.kid} matches): it was altered or is damaged.`,
      {
        reason: 'tampered',
        hint: 'Someone or something rewrote the stored record. Log in again (`npx mesh-auth logout`, then `npx mesh-auth`) and check who can write to the store.',
      },
    );
  }
}
