/**
 * How each reply of the API is checked (a ReplyCheck, read by http/reply-check.ts's readReply like
 * every other reply): the common shape by hand, everything else by its zod schema (schemas.ts),
 * loaded on first need. A program whose replies look as expected never loads zod (about 50 ms of
 * a cold start: docs/performance.md). A hand check answers the body only when it plainly matches,
 * and never accepts what its schema refuses (test/client/fast-replies.test.ts); when in doubt it
 * leaves the body to zod, which gives the same result and the same errors.
 */
import type { z } from 'zod';
import type { CheckResult, ReplyCheck } from '../http/reply-body.js';
import type { Schemas } from './schemas.js';
import type { Profile } from './types.js';

type SchemaName = keyof Schemas;

/** One kind of reply: its schema's name and, for the hot ones, a hand check. */
export interface Reply<T> extends ReplyCheck<T> {
  readonly schema: SchemaName;
  /** The body as the schema would give it, or undefined: ask the schema. */
  readonly fast?: (json: unknown) => T | undefined;
}

/** A reply checked by `fast` when it answers, else by its schema. */
function apiReply<T>(schema: SchemaName, fast?: (json: unknown) => T | undefined): Reply<T> {
  return {
    schema,
    fast,
    safeParse(json): CheckResult<T> | Promise<CheckResult<T>> {
      const data = fast?.(json);
      if (data !== undefined) return { success: true, data };
      return loadSchemas().then((schemas) => (schemas[schema] as unknown as z.ZodType<T>).safeParse(json));
    },
  };
}

type Output<K extends SchemaName> = z.output<Schemas[K]>;
/** A chat reply as read: `{ id?, model?, provider?, usage?, text }` (any of the three shapes). */
export type ChatReplyData = Output<'chatSchema'>;
export type CreatedApiKeyData = Output<'createdApiKeySchema'>;
export type ImagesData = Output<'imagesSchema'>;

let schemas: Promise<Schemas> | undefined;

/** The zod schemas, loaded (zod with them) once, on first need. */
export function loadSchemas(): Promise<Schemas> {
  schemas ??= Promise.all([import('zod'), import('./schemas.js')]).then(([{ z }, { zodSchemas }]) => zodSchemas(z));
  return schemas;
}

/** An object as zod's object schemas take it; an own `__proto__` key (zod drops it) goes to zod. */
function plainObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && !Object.hasOwn(json, '__proto__');
}

const isOptionalString = (value: unknown) => value === undefined || typeof value === 'string';

const optionalBoolean = (value: unknown) => value === undefined || typeof value === 'boolean';
const stringOrNull = (value: unknown) => value === undefined || value === null || typeof value === 'string';
const numberOrNull = (value: unknown) => value === undefined || value === null || typeof value === 'number';

function stringArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/** The profile's fields with a string id (a number id is the schema's to convert). */
function profileFields(json: unknown): json is Record<string, unknown> {
  return (
    plainObject(json) &&
    typeof json.id === 'string' &&
    stringOrNull(json.email) &&
    stringOrNull(json.name) &&
    numberOrNull(json.credits)
  );
}

export const listKeysReply = apiReply<Output<'listKeysSchema'>>('listKeysSchema', (json) =>
  plainObject(json) && stringArray(json.keys) ? (json as Output<'listKeysSchema'>) : undefined,
);

export const getKeyReply = apiReply<Output<'getKeySchema'>>('getKeySchema', (json) =>
  plainObject(json) && optionalBoolean(json.success) && isOptionalString(json.keyValue) && isOptionalString(json.key)
    ? json
    : undefined,
);

export const storeKeyReply = apiReply<Output<'storeKeySchema'>>('storeKeySchema', (json) =>
  plainObject(json) && optionalBoolean(json.success) ? json : undefined,
);

/** Flat `{id, ...}` first, as the schema (and client.py 1.5.6) reads it; else `{"profile": {...}}`. */
export const profileReply = apiReply<Output<'profileSchema'>>('profileSchema', (json) => {
  if (profileFields(json)) return json as Output<'profileSchema'>;
  if (plainObject(json) && json.id === undefined && profileFields(json.profile)) return json.profile as Output<'profileSchema'>;
  return undefined;
});

/** `usage` as the chat schema's `usageSchema.optional()` keeps it (its three fields), or undefined when it is not one. */
function usageFields(value: unknown): { prompt_tokens: number; completion_tokens: number; total_tokens?: number } | undefined {
  if (!plainObject(value) || typeof value.prompt_tokens !== 'number' || typeof value.completion_tokens !== 'number')
    return undefined;
  if (value.total_tokens !== undefined && typeof value.total_tokens !== 'number') return undefined;
  const usage = { prompt_tokens: value.prompt_tokens, completion_tokens: value.completion_tokens };
  return value.total_tokens === undefined ? usage : { ...usage, total_tokens: value.total_tokens };
}

/** Every choice carries a message with text content: the OpenAI shape as most replies come. */
function textChoices(choices: unknown): choices is Array<{ message: { content: string } }> {
  if (!Array.isArray(choices) || choices.length === 0) return false;
  for (const choice of choices) {
    if (!plainObject(choice) || !plainObject(choice.message) || typeof choice.message.content !== 'string') return false;
  }
  return true;
}

/**
 * Chat replies come in three shapes with transforms: the OpenAI shape with text content (nearly
 * every reply) by hand, the others (content parts, `content`, `message`) by the schema.
 */
export const chatReply = apiReply<Output<'chatSchema'>>('chatSchema', (json) => {
  if (!plainObject(json) || !textChoices(json.choices)) return undefined;
  if (!isOptionalString(json.id) || !isOptionalString(json.model) || !isOptionalString(json.provider)) return undefined;
  const usage = usageFields(json.usage);
  if (json.usage !== undefined && usage === undefined) return undefined; // the schema drops a bad one: its call
  const { choices, ...rest } = json;
  const reply = { ...rest, text: choices[0]?.message.content as string } as Output<'chatSchema'>;
  if (usage !== undefined) reply.usage = usage;
  return reply;
});
export const createdApiKeyReply = apiReply<Output<'createdApiKeySchema'>>('createdApiKeySchema');
/** Image replies: a generation takes seconds, so the schema alone reads them. */
export const imagesReply = apiReply<Output<'imagesSchema'>>('imagesSchema');
/** The ZKP routes' replies: rare calls, read by the schema alone. */
export const zkpReply = apiReply<Output<'zkpSchema'>>('zkpSchema');

/** `usage` as the schema's `usageSchema.nullable().optional().catch(undefined)` reads it. */
function usageOrNothing(value: unknown): Output<'chatChunkSchema'>['usage'] {
  return value === null ? null : usageFields(value);
}

/**
 * One streamed chunk, read by hand (the schema's `chatChunkSchema` decides the same way): undefined
 * when it is not a chunk. No schema to load mid-stream: a wait there would let a cut connection
 * discard deltas that had already arrived.
 */
export function chatChunkOf(event: unknown): Output<'chatChunkSchema'> | undefined {
  if (!plainObject(event)) return undefined;
  const { choices } = event;
  if (choices !== undefined) {
    if (!Array.isArray(choices)) return undefined;
    for (const choice of choices) {
      if (!plainObject(choice)) return undefined;
      const { delta } = choice;
      if (delta === undefined) continue;
      if (!plainObject(delta)) return undefined;
      const { content } = delta;
      if (!(content === undefined || content === null || typeof content === 'string')) return undefined;
    }
  }
  // Nearly every chunk has no usage: answered as it is, no copy per delta (a quarter of a stream's time).
  if (event.usage === undefined) return event as Output<'chatChunkSchema'>;
  return { ...event, usage: usageOrNothing(event.usage) } as Output<'chatChunkSchema'>;
}

/** The profile as the SDK gives it: the fields it knows, each only when it has a value. */
export function toProfile(data: { id: string; email?: string | null; name?: string | null; credits?: number | null }): Profile {
  const profile: Profile = { id: data.id };
  if (typeof data.email === 'string') profile.email = data.email;
  if (typeof data.name === 'string') profile.name = data.name;
  if (typeof data.credits === 'number') profile.credits = data.credits;
  return profile;
}
