/**
 * The public shapes of images: what a chat or an edit takes (`ImageInput`), what a generation
 * answers (`GeneratedImage`) and asks (`GenerateImageOptions`). Types only: importing them loads
 * nothing. `ImageInput` lives in ../types.ts beside `ChatOptions`, which names it (no import circle).
 */
import type { ImageInput, RequestOptions } from '../types.js';

export type { ImageInput } from '../types.js';

/** One image a generation or an edit produced. Which of `url` and `b64Json` is set is the backend's choice (`responseFormat`). */
export interface GeneratedImage {
  /** Where the provider keeps the image (often for an hour or so only), when it answered with a URL. */
  url?: string;
  /** The image itself, base64 (no `data:` prefix), when it answered with the bytes. */
  b64Json?: string;
  /** `image/png`, `image/jpeg`, `image/gif` or `image/webp`, read from the bytes when the SDK had them (a `b64Json` reply, or a saved file). */
  mediaType?: string;
  /** The file it was written to, with `saveTo`. */
  path?: string;
}

/**
 * Options of `generateImage`. Unset options are left out of the request (never sent as `null`).
 * @example await client.generateImage('A lighthouse at dawn', { size: '1024x1024', saveTo: './lighthouse.png' });
 */
export interface GenerateImageOptions extends Pick<RequestOptions, 'signal' | 'timeout'> {
  /** @default `dall-e-3` for openai, `gemini-2.0-flash-exp-image-generation` for google */
  model?: string;
  /** @default inferred from `model` (gemini -> google), else the client's `defaultProvider` (`openai`) */
  provider?: string;
  /** e.g. `1024x1024`. Generation only. */
  size?: string;
  /** How many images. Generation only. */
  n?: number;
  /** e.g. `standard`, `hd`. Generation only. */
  quality?: string;
  /** e.g. `vivid`, `natural`. Generation only. */
  style?: string;
  /** Whether the backend answers with URLs or with the bytes. @default the backend's (OpenAI's: `url`) */
  responseFormat?: 'url' | 'b64_json';
  /** An image to edit: the request goes to `/api/v1/images/vision` instead, with this image and the prompt. */
  image?: ImageInput;
  /**
   * Writes the images to this file (`stem_0.png`, `stem_1.png`... when there are several, numbered from 0 as the Python SDK does; the
   * extension from the image's type when the name has none). An existing file is replaced; a
   * symbolic link at that name is replaced, never written through. A URL reply is downloaded
   * without any Mesh credential.
   */
  saveTo?: string;
}
