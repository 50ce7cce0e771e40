/**
 * Where a chat's images go in its body, per provider, as the Python SDK lays them out
 * (client.py 1.5.6, backend-contract.md part A "Images in chat"):
 * - openai (and any provider it does not know): `content` = the text part, then
 *   `{type: "image_url", image_url: {url: "data:<type>;base64,...", detail: "high"}}` parts;
 * - anthropic: `content` = `{type: "image", source: {type: "base64", media_type, data}}` parts,
 *   then the text part;
 * - google: `parts` (no `content`) = `{text}`, then `{inline_data: {mime_type, data}}`, and a
 *   model named `...image-generation...` adds `generationConfig.responseModalities`.
 * The images go on the last user message (a new one when there is none). The caller's messages
 * are never changed: the body gets copies.
 */
import type { ChatContentPart, ChatMessage } from '../types.js';
import type { PreparedImage } from './prepare.js';

/** Substrings of the model names the Python SDK treats as able to see images. */
const VISION_MARKERS = ['vision', 'gpt-4o', 'gpt-4-v', 'claude-3', 'gemini'];

/** The provider's vision model, used when the caller named no model and the default cannot see (client.py 1.5.6). */
export const VISION_DEFAULTS: Readonly<Record<string, string>> = {
  openai: 'gpt-4o',
  anthropic: 'claude-3-7-sonnet-20250219',
  google: 'gemini-2.0-flash-exp-image-generation',
};

export function canSeeImages(model: string): boolean {
  const name = model.toLowerCase();
  return VISION_MARKERS.some((marker) => name.includes(marker));
}

/** Google's image-generating models answer in text and images only when asked (Gemini API `responseModalities`). */
export const IMAGE_GENERATION_CONFIG = { responseModalities: ['Text', 'Image'] } as const;

/** A google message: `parts` instead of `content`. */
type GoogleMessage = { role: ChatMessage['role']; parts: Array<Record<string, unknown>> };

/**
 * `data:<type>;base64,<data>` as one flat string. A template literal would make a rope (a V8
 * ConsString) that JSON.stringify flattens into a third copy while the base64 is still alive: a
 * 20 MB image then cost 4x its size in heap instead of under 3x (bench/image-memory.bench.ts).
 */
function dataUrl(mediaType: string, base64: string): string {
  const prefix = `data:${mediaType};base64,`;
  const text = Buffer.allocUnsafe(prefix.length + base64.length);
  text.write(prefix, 0, 'latin1');
  text.write(base64, prefix.length, 'latin1');
  return text.toString('latin1');
}

/** The text of a message's content: the string, or its text parts joined. */
function textOf(content: ChatMessage['content'] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

function asParts(content: ChatMessage['content'] | undefined): ChatContentPart[] {
  if (content === undefined) return [];
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** The last user message, given the images of `provider`. */
function withImagesOn(message: ChatMessage | undefined, provider: string, images: PreparedImage[]): ChatMessage | GoogleMessage {
  const content = message?.content ?? '';
  if (provider === 'google') {
    const parts = images.map(({ mediaType, base64 }) => ({ inline_data: { mime_type: mediaType, data: base64 } }));
    return { role: 'user', parts: [{ text: textOf(content) }, ...parts] };
  }
  if (provider === 'anthropic') {
    const parts = images.map(({ mediaType, base64 }) => ({
      type: 'image',
      source: { type: 'base64', media_type: mediaType, data: base64 },
    }));
    return { ...message, role: 'user', content: [...parts, ...asParts(content)] };
  }
  const parts = images.map(({ mediaType, base64 }) => ({
    type: 'image_url' as const,
    image_url: { url: dataUrl(mediaType, base64), detail: 'high' as const },
  }));
  return { ...message, role: 'user', content: [...asParts(content), ...parts] };
}

/** The messages with the images on the last user message (appended as a new one when there is none). */
export function messagesWithImages(
  messages: readonly ChatMessage[],
  provider: string,
  images: PreparedImage[],
): Array<ChatMessage | GoogleMessage> {
  const last = messages.findLastIndex((message) => message.role === 'user');
  if (last < 0) return [...messages, withImagesOn(undefined, provider, images)];
  return messages.map((message, i) => (i === last ? withImagesOn(message, provider, images) : message));
}

/**
 * The chat body with the images laid out: the model replaced by the provider's vision default
 * when the caller named none and the one chosen cannot see, and Google's image-generation config
 * when the model asks for it.
 */
export function bodyWithImages(
  body: Record<string, unknown>,
  target: { provider: string; modelNamed: boolean },
  images: PreparedImage[],
): Record<string, unknown> {
  if (images.length === 0) return body;
  const provider = target.provider.toLowerCase();
  let model = body.model as string;
  const visionDefault = VISION_DEFAULTS[provider];
  if (!target.modelNamed && !canSeeImages(model) && visionDefault !== undefined) model = visionDefault;
  const laidOut: Record<string, unknown> = {
    ...body,
    model,
    messages: messagesWithImages(body.messages as ChatMessage[], provider, images),
  };
  if (provider === 'google' && model.includes('image-generation')) laidOut.generationConfig = IMAGE_GENERATION_CONFIG;
  return laidOut;
}
