/**
 * Hand-written checks of small JSON values: the auth endpoints' replies, Auth0's device replies
 * and stored token sets. Each is a `ReplyCheck` (reply-body.ts), read like every other reply, and
 * answers at once: no zod at login (docs/performance.md, "Cold start and first call").
 */

import { isObject } from '../internal/json-text.js';
import type { CheckResult, ReplyCheck } from './reply-body.js';

/** Why a value does not have the expected shape: names the field and what it held. */
export class ReplyShapeError extends Error {
  override name = 'ReplyShapeError';
}

/** A check that answers at once (a stored token set is read without waiting). */
export interface ReplyShape<T> extends ReplyCheck<T> {
  safeParse(value: unknown): CheckResult<T>;
}

/** A JSON value's kind for messages (never the value itself: it may be a token). */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Throws (inside a check) the problem with `field`. */
export function refuse(field: string, expected: string, got: unknown): never {
  throw new ReplyShapeError(`${field}: expected ${expected}, got ${kindOf(got)}`);
}

/** A non-empty string, or undefined for anything else (a field whose bad value is dropped, not fatal). */
export function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A required non-empty string. */
export function requiredText(object: Record<string, unknown>, field: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') refuse(field, 'a non-empty string', value);
  return value;
}

/** An optional string (present: a string, possibly empty; `undefined` when absent). */
export function optionalString(object: Record<string, unknown>, field: string, nonEmpty = false): string | undefined {
  const value = object[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (nonEmpty && value === '')) refuse(field, nonEmpty ? 'a non-empty string' : 'a string', value);
  return value;
}

/** A finite number (JSON has no other kind). */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A shape from a check over a JSON object; the check throws `ReplyShapeError` (through `refuse`). */
export function replyShape<T>(check: (object: Record<string, unknown>) => T): ReplyShape<T> {
  return {
    safeParse(value) {
      if (!isObject(value)) return { success: false, error: new ReplyShapeError(`expected a JSON object, got ${kindOf(value)}`) };
      try {
        return { success: true, data: check(value) };
      } catch (error) {
        if (error instanceof ReplyShapeError) return { success: false, error };
        throw error;
      }
    },
  };
}
