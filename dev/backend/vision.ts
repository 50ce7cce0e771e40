/**
 * Images in chat messages, in the three layouts the Python client 1.5.6 sends (client.py
 * `MeshClient.chat`, backend-contract.md part A), validated strictly: the layout must be the
 * provider's, the base64 canonical, the named media type the one the magic bytes say, at most 5
 * images a message, and a Gemini image-generation model must ask for image output.
 */
import { fields, HttpError } from './http.js';
import { decodeBase64, type ImageFacts, ImageProblem, inspectImage, isImageMediaType } from './image-bytes.js';

export type Layout = 'openai' | 'anthropic' | 'google';
export const LAYOUTS: readonly Layout[] = ['openai', 'anthropic', 'google'];

/** The Python client trims to 5 before sending; more is a client that does not. */
export const MAX_IMAGES_PER_MESSAGE = 5;
/** The Python client refuses larger images (client.py 1.5.6 `chat`, "Maximum dimensions: 8000x8000px"). */
export const MAX_IMAGE_SIDE = 8000;

/** How each layout looks, for the error texts. */
export const LAYOUT_HELP: Record<Layout, string> = {
  openai:
    '"content": [{"type": "text", "text": ...}, then {"type": "image_url", "image_url": {"url": "data:<mime>;base64,...", "detail": "high"}} per image]',
  anthropic:
    '"content": [{"type": "image", "source": {"type": "base64", "media_type": ..., "data": ...}} per image, then {"type": "text", "text": ...}]',
  google: '"parts" instead of "content": [{"text": ...}, then {"inline_data": {"mime_type": ..., "data": ...}} per image]',
};

export interface VisionMessage {
  /** The text parts, joined. */
  text: string;
  images: ImageFacts[];
  /** The layout its images came in; undefined without images. */
  layout?: Layout;
  /** Whether text and images come in the layout's order (checked once the provider is known). */
  ordered?: boolean;
}

const invalid = (message: string) => new HttpError(400, message);
const given = (value: unknown) => value !== undefined && value !== null;
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Decodes and checks one image: canonical base64, a known type, the type the bytes say, a sane size. */
function image(where: string, data: unknown, declared: unknown): ImageFacts {
  if (typeof data !== 'string') throw invalid(`${where}: the image data must be a base64 string.`);
  const bytes = decodeBase64(data);
  if (bytes === undefined) throw invalid(`${where}: the image data is not valid base64 (standard alphabet, padded).`);
  if (!isImageMediaType(declared)) {
    throw invalid(`${where}: media type ${JSON.stringify(declared)} is not image/jpeg, image/png, image/gif or image/webp.`);
  }
  let facts: ImageFacts;
  try {
    facts = inspectImage(bytes);
  } catch (error) {
    if (error instanceof ImageProblem) throw invalid(`${where}: ${error.message}.`);
    throw error;
  }
  if (facts.mediaType !== declared) {
    throw invalid(`${where}: declared ${declared} but the bytes are ${facts.mediaType}.`);
  }
  if (facts.width > MAX_IMAGE_SIDE || facts.height > MAX_IMAGE_SIDE) {
    throw invalid(`${where}: ${facts.width}x${facts.height} is over ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE} pixels.`);
  }
  return facts;
}

/** `data:<mime>;base64,<data>`, the only URL form the Python client sends (never http). */
function dataUrl(where: string, url: unknown): ImageFacts {
  const match = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
  if (!match) throw invalid(`${where}: image_url.url must be a data: URL (data:<mime>;base64,...).`);
  return image(where, match[2], match[1]);
}

type Part = { kind: 'text'; text: string } | { kind: 'image'; layout: 'openai' | 'anthropic'; facts: ImageFacts };

function contentPart(part: unknown, where: string): Part {
  const p = fields(part);
  switch (p.type) {
    case 'text':
      if (typeof p.text !== 'string') throw invalid(`${where}: a text part needs "text", a string.`);
      return { kind: 'text', text: p.text };
    case 'image_url': {
      const inner = p.image_url;
      if (!isObject(inner)) throw invalid(`${where}: "image_url" must be an object {"url", "detail"}.`);
      // The Python client always sends "high"; OpenAI's other two values are accepted as well.
      if (given(inner.detail) && !['high', 'low', 'auto'].includes(inner.detail as string)) {
        throw invalid(`${where}: image_url.detail must be "high" (or "low", "auto").`);
      }
      return { kind: 'image', layout: 'openai', facts: dataUrl(where, inner.url) };
    }
    case 'image': {
      const source = p.source;
      if (!isObject(source) || source.type !== 'base64') {
        throw invalid(`${where}: an image part needs "source": {"type": "base64", "media_type", "data"}.`);
      }
      return { kind: 'image', layout: 'anthropic', facts: image(where, source.data, source.media_type) };
    }
    default:
      if (typeof p.type !== 'string') throw invalid(`${where} needs a "type".`);
      throw invalid(`${where}: unknown part type ${JSON.stringify(p.type)} (text, image_url or image).`);
  }
}

/**
 * The order each layout puts text and images in. openai: text first (the Python client also sends
 * images then one empty text part when a message list has no user message); anthropic: images
 * first, then text.
 */
function inOrder(layout: 'openai' | 'anthropic', parts: Part[]): boolean {
  const kinds = parts.map((p) => (p.kind === 'text' ? 'T' : 'I')).join('');
  if (layout === 'anthropic') return /^I+T+$/.test(kinds);
  const last = parts[parts.length - 1];
  return /^T+I+$/.test(kinds) || (/^I+T$/.test(kinds) && last?.kind === 'text' && last.text === '');
}

function fromContent(content: unknown, where: string): VisionMessage {
  if (typeof content === 'string') return { text: content, images: [] };
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array of parts.`);
  const parts = content.map((part, j) => contentPart(part, `${where}.content[${j}]`));
  const text = parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
  const images = parts.flatMap((p) => (p.kind === 'image' ? [p] : []));
  if (images.length === 0) return { text, images: [] };
  const layouts = new Set(images.map((p) => p.layout));
  if (layouts.size > 1) throw invalid(`${where}: image parts of two layouts (image_url and image) in one message.`);
  const layout = images[0]?.layout as 'openai' | 'anthropic';
  return { text, images: images.map((p) => p.facts), layout, ordered: inOrder(layout, parts) };
}

/** Gemini's `parts`: one `{"text"}` first, then `{"inline_data"}` per image. */
function fromParts(message: Record<string, unknown>, where: string): VisionMessage {
  const parts = message.parts;
  if (!Array.isArray(parts) || parts.length === 0) throw invalid(`${where}.parts must be a non-empty array.`);
  const [first, ...rest] = parts.map(fields);
  if (typeof first?.text !== 'string' || Object.keys(first).length !== 1) {
    throw invalid(`${where}.parts[0] must be {"text": ...}: google images go as ${LAYOUT_HELP.google}.`);
  }
  // The Python client's message-list path adds "parts" and leaves the old string "content" (the same text).
  if (given(message.content) && message.content !== first.text) {
    throw invalid(`${where}: a message with "parts" carries no other "content" (only the same text, as a string).`);
  }
  const images = rest.map((part, j) => {
    const at = `${where}.parts[${j + 1}]`;
    if ('inlineData' in part) throw invalid(`${at}: "inline_data" with "mime_type" (snake_case), not "inlineData".`);
    const inline = part.inline_data;
    if (!isObject(inline) || Object.keys(part).length !== 1) {
      throw invalid(`${at} must be {"inline_data": {"mime_type", "data"}}: google images go as ${LAYOUT_HELP.google}.`);
    }
    return image(at, inline.data, inline.mime_type);
  });
  return { text: first.text, images, layout: images.length > 0 ? 'google' : undefined };
}

/** Text and images of one message, whatever its layout; 400 for anything malformed. */
export function visionMessage(message: Record<string, unknown>, index: number): VisionMessage {
  const where = `messages[${index}]`;
  const read = given(message.parts) ? fromParts(message, where) : fromContent(message.content, where);
  if (read.images.length > MAX_IMAGES_PER_MESSAGE) {
    throw invalid(`${where}: ${read.images.length} images; at most ${MAX_IMAGES_PER_MESSAGE} per message.`);
  }
  return read;
}

/**
 * The provider the images must be laid out for: the body's `provider`; a stream names none (the
 * Python stream body has no provider), so the model's provider when the model tells one, else the
 * layout the images came in.
 */
export function imageProvider(named: string | undefined, modelProvider: string, layouts: Layout[]): string | undefined {
  if (named !== undefined) return named;
  if ((LAYOUTS as readonly string[]).includes(modelProvider)) return modelProvider;
  return layouts[0];
}

/** Every message with images must be in the provider's layout, in its order; only the three providers take images. */
export function checkLayouts(messages: VisionMessage[], provider: string | undefined): void {
  messages.forEach((m, i) => {
    if (m.layout === undefined) return;
    if (!(LAYOUTS as readonly string[]).includes(provider ?? '')) {
      throw invalid(`messages[${i}]: images are accepted for the openai, anthropic and google providers, not ${provider}.`);
    }
    if (m.layout !== provider) {
      throw invalid(
        `messages[${i}]: images in the ${m.layout} layout, but the provider is ${provider}: ${provider} images go as ${LAYOUT_HELP[provider as Layout]}.`,
      );
    }
    if (m.ordered === false) throw invalid(`messages[${i}]: ${m.layout} images go as ${LAYOUT_HELP[m.layout]}.`);
  });
}

/**
 * client.py 1.5.6 `chat` adds `"generationConfig": {"responseModalities": ["Text", "Image"]}` when
 * it lays out images for google and the model names "2.0" and "image-generation"; such a chat
 * without it is refused. Any other `generationConfig` (the client passes extra fields through) must
 * be an object.
 */
export function checkGenerationConfig(body: Record<string, unknown>, model: string, hasGoogleImages: boolean): void {
  const config = body.generationConfig;
  if (given(config) && !isObject(config)) throw invalid('generationConfig must be an object.');
  if (!hasGoogleImages || !model.includes('2.0') || !model.includes('image-generation')) return;
  const modalities = isObject(config) ? config.responseModalities : undefined;
  if (!Array.isArray(modalities) || modalities.join(',') !== 'Text,Image') {
    throw invalid(`${model} with images needs "generationConfig": {"responseModalities": ["Text", "Image"]}.`);
  }
}
