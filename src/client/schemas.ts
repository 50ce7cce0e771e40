/** zod schemas of the backend's replies (backend-contract.md "API endpoints"). */
import { z } from 'zod';

const usage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() });

export const chatReply = z.object({
  id: z.string(),
  content: z.string(),
  model: z.string(),
  provider: z.string(),
  usage,
});

export const chatStreamEvent = z.union([
  z.object({ delta: z.string() }),
  z.object({ done: z.literal(true), usage: usage.optional() }).passthrough(),
]);

export const keysReply = z.object({ keys: z.array(z.string()) });
export const successReply = z.object({ success: z.literal(true) });
export const keyReply = z.object({ key_name: z.string(), key_value: z.string() });
export const createdApiKeyReply = z.object({
  id: z.string(),
  name: z.string(),
  key: z.string().regex(/^mesh_/),
  created_at: z.string(),
});
export const apiKeysReply = z.object({
  api_keys: z.array(z.object({ id: z.string(), name: z.string(), created_at: z.string(), last_used_at: z.string().nullable() })),
});
export const profileReply = z.object({
  profile: z.object({ id: z.string(), email: z.string(), name: z.string(), credits: z.number() }),
});
export const errorBody = z.object({
  error: z.string().optional(),
  message: z.string().optional(),
  error_description: z.string().optional(),
});
