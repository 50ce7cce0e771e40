/**
 * zod schemas of the backend's replies (backend-contract.md v2 part A). Where the deployed
 * backend's shape is ambiguous, each schema accepts every shape the Python SDK accepts. This
 * module and zod are loaded on first need only (replies.ts): the common shapes are checked by hand,
 * so a program whose replies are as expected never loads zod. zod comes in as an argument, never as
 * an import here: a bundler hoists a static import of a package to the top of the bundle.
 */
import type { z as Z } from 'zod';

/** The schemas, built with the zod module given. */
export function zodSchemas(z: typeof Z) {
  const usageSchema = z.object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    total_tokens: z.number().optional(),
  });

  /** Text content: a string, or an array of parts whose text parts are joined. */
  const contentSchema = z.union([
    z.string(),
    z
      .array(z.looseObject({ type: z.string().optional(), text: z.string().optional() }))
      .transform((parts) => parts.map((part) => part.text ?? '').join('')),
  ]);

  const chatMeta = {
    id: z.string().optional(),
    model: z.string().optional(),
    provider: z.string().optional(),
    usage: usageSchema.optional().catch(undefined),
  };

  const openAiShape = z.looseObject({
    ...chatMeta,
    choices: z.array(z.looseObject({ message: z.looseObject({ content: contentSchema }) })).min(1),
  });
  const contentShape = z.looseObject({ ...chatMeta, content: contentSchema });
  const messageShape = z.looseObject({ ...chatMeta, message: z.looseObject({ content: contentSchema }) });

  /** The three reply shapes, in the order the Python SDK tries them, as `{id?, model?, provider?, usage?, text}`. */
  const chatSchema = z.union([
    openAiShape.transform(({ choices, ...rest }) => ({
      ...rest,
      text: (choices[0] as { message: { content: string } }).message.content,
    })),
    contentShape.transform(({ content, ...rest }) => ({ ...rest, text: content })),
    messageShape.transform(({ message, ...rest }) => ({ ...rest, text: message.content })),
  ]);

  /** One streamed OpenAI chunk: `choices[0].delta.content`, and `usage` on the last one when sent. */
  const chatChunkSchema = z.looseObject({
    choices: z
      .array(z.looseObject({ delta: z.looseObject({ content: z.string().nullable().optional() }).optional() }))
      .optional(),
    usage: usageSchema.nullable().optional().catch(undefined),
  });

  /** `{"profile": {"id", ...}}` or flat `{"id", ...}`: the root `id` first, as client.py 1.5.6 reads it. */
  const profileFields = z.looseObject({
    id: z.union([z.string(), z.number().transform(String)]),
    email: z.string().nullable().optional(),
    name: z.string().nullable().optional(),
    credits: z.number().nullable().optional(),
  });
  const profileSchema = z.union([profileFields, z.looseObject({ profile: profileFields }).transform((r) => r.profile)]);

  const storeKeySchema = z.looseObject({ success: z.boolean().optional() });
  const getKeySchema = z.looseObject({
    success: z.boolean().optional(),
    keyValue: z.string().optional(),
    key: z.string().optional(),
  });
  const listKeysSchema = z.looseObject({ keys: z.array(z.string()) });
  /** The ZKP routes' replies (zkp_client.py 1.5.5): each reads the one field it needs. */
  const zkpSchema = z.looseObject({
    success: z.boolean().optional(),
    challenge: z.string().optional(),
    commitment: z.string().optional(),
    verified: z.boolean().optional(),
  });

  /**
   * Image generation and editing (client.py 1.5.6 `image` reads `data[].url` or `data[].b64_json`):
   * each item has one of them; `b64_json` is standard, padded base64.
   */
  const imagesSchema = z.looseObject({
    data: z
      .array(
        z
          .looseObject({
            url: z.url({ protocol: /^https?$/ }).optional(),
            b64_json: z
              .string()
              .regex(/^[A-Za-z0-9+/]*={0,2}$/)
              .refine((text) => text.length % 4 === 0 && text.length > 0)
              .optional(),
          })
          .refine((item) => item.url !== undefined || item.b64_json !== undefined, 'each image needs url or b64_json'),
      )
      .min(1),
  });

  const keyObject = z.looseObject({
    api_key: z.string().startsWith('mesh_'),
    key_id: z.union([z.string(), z.number().transform(String)]).optional(),
    name: z.string().optional(),
    created_at: z.string().optional(),
  });
  /** `api_key` as an object (client.py 1.5.6, pre_deploy.py 1.5.3) or as the key string (__init__.py 1.5.6). */
  const createdApiKeySchema = z.looseObject({
    success: z.boolean().optional(),
    api_key: z.union([keyObject, z.string().startsWith('mesh_')]),
    key_id: z.union([z.string(), z.number().transform(String)]).optional(),
    name: z.string().optional(),
    created_at: z.string().optional(),
  });

  return {
    usageSchema,
    chatSchema,
    chatChunkSchema,
    profileSchema,
    storeKeySchema,
    getKeySchema,
    listKeysSchema,
    zkpSchema,
    createdApiKeySchema,
    imagesSchema,
  };
}

export type Schemas = ReturnType<typeof zodSchemas>;
