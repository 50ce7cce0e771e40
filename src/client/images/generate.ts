/**
 * Image generation and editing (backend-contract.md part A "Images"), loaded by the first
 * `generateImage` call. Generation: `POST /api/v1/images/generate {provider, prompt, model,
 * size?, n?, quality?, style?, response_format?}` (google's gemini-2.0 models add
 * `generationConfig`); an edit: `POST /api/v1/images/vision {provider, prompt, image, model,
 * response_format?}`, `image` the raw base64 of the file (client.py 1.5.6 `MeshClient.image`).
 * Reply `{"data": [{"url"} | {"b64_json"}]}`. Not idempotent: a generation costs credits, so the
 * POST is never retried after it may have been processed (the HTTP layer's rule for every POST).
 */

import { ConfigError, ResponseValidationError } from '../../errors/mesh-error.js';
import type { Transport } from '../../http/transport.js';
import type { InternalLogger } from '../../internal/logger.js';
import type { ApiCaller } from '../api-caller.js';
import { inferProvider } from '../chat.js';
import { EDIT_IMAGE, GENERATE_IMAGE, type Operation } from '../operations.js';
import type { ImagesData } from '../replies.js';
import { DownloadFailure, download } from './download.js';
import { IMAGE_GENERATION_CONFIG } from './layout.js';
import { sniffMediaType } from './media-type.js';
import { prepareImage } from './prepare.js';
import { checkSaveTarget, savePaths, writeImageFile } from './save.js';
import type { GeneratedImage, GenerateImageOptions } from './types.js';

/** client.py 1.5.6 `image`: the model named when the caller names none. */
export const IMAGE_MODELS: Readonly<Record<string, string>> = {
  openai: 'dall-e-3',
  google: 'gemini-2.0-flash-exp-image-generation',
};

export interface ImageCallContext {
  api: ApiCaller;
  transport: () => Promise<Transport>;
  logger: InternalLogger;
  /** The client's `defaultProvider`. */
  defaultProvider: string;
  /** The client's `timeout`: bounds downloads. */
  timeout: number;
}

function target(options: GenerateImageOptions, defaultProvider: string): { provider: string; model: string } {
  const provider = (options.provider ?? (options.model && inferProvider(options.model)) ?? defaultProvider).toLowerCase();
  const model = options.model ?? IMAGE_MODELS[provider];
  if (model === undefined) {
    throw new ConfigError(`generateImage: there is no default image model for provider "${provider}"; nothing was sent.`, {
      hint: `Name one with { model }, or use provider "openai" (${IMAGE_MODELS.openai}) or "google".`,
    });
  }
  return { provider, model };
}

const GENERATION_ONLY = ['size', 'n', 'quality', 'style'] as const;

/** The request body: only what was set, never a `null`. */
async function requestBody(
  prompt: string,
  options: GenerateImageOptions,
  context: ImageCallContext,
): Promise<{ operation: Operation<ImagesData>; body: Record<string, unknown> }> {
  const { provider, model } = target(options, context.defaultProvider);
  if (options.image !== undefined) {
    const extra = GENERATION_ONLY.filter((name) => options[name] !== undefined);
    if (extra.length > 0) {
      throw new ConfigError(
        `generateImage: ${extra.join(', ')} apply to a generation, not to an edit (image); nothing was sent.`,
        {
          hint: 'Leave them out when editing: the edit endpoint takes the prompt, the image and the model.',
        },
      );
    }
    // The edit sends the image as given (client.py reads the file as it is): no scaling.
    const image = await prepareImage(options.image, 0, {
      transport: context.transport,
      logger: context.logger,
      timeout: options.timeout ?? context.timeout,
      signal: options.signal,
      scale: false,
    });
    const body: Record<string, unknown> = { provider, prompt, image: image.base64, model };
    if (options.responseFormat !== undefined) body.response_format = options.responseFormat;
    return { operation: EDIT_IMAGE, body };
  }
  const body: Record<string, unknown> = { provider, prompt, model };
  for (const name of GENERATION_ONLY) if (options[name] !== undefined) body[name] = options[name];
  if (options.responseFormat !== undefined) body.response_format = options.responseFormat;
  if (provider === 'google' && model.includes('gemini-2.0')) body.generationConfig = IMAGE_GENERATION_CONFIG;
  return { operation: GENERATE_IMAGE, body };
}

/** Generates (or edits) images; with `saveTo`, writes them and sets each one's `path`. */
export async function generateImages(
  prompt: string,
  options: GenerateImageOptions,
  context: ImageCallContext,
): Promise<GeneratedImage[]> {
  const { operation, body } = await requestBody(prompt, options, context);
  if (options.saveTo !== undefined) await checkSaveTarget(options.saveTo);
  const { data: reply, response } = await context.api.perform(operation, {
    body,
    signal: options.signal,
    timeout: options.timeout,
  });
  const images: GeneratedImage[] = reply.data.map((item) => {
    if (item.b64_json !== undefined) {
      const mediaType = sniffMediaType(Buffer.from(item.b64_json.slice(0, 64), 'base64'));
      return mediaType === undefined ? { b64Json: item.b64_json } : { b64Json: item.b64_json, mediaType };
    }
    return { url: item.url as string };
  });
  if (options.saveTo === undefined) return images;
  return saveAll(images, options.saveTo, (options.n ?? 1) > 1, options, context, response.requestId);
}

/** The bytes of each image (decoded, or downloaded without credentials), written where `saveTo` says. */
async function saveAll(
  images: GeneratedImage[],
  saveTo: string,
  askedForSeveral: boolean,
  options: GenerateImageOptions,
  context: ImageCallContext,
  requestId: string | undefined,
): Promise<GeneratedImage[]> {
  const contents: Uint8Array[] = [];
  for (const [i, image] of images.entries()) {
    contents.push(
      image.b64Json !== undefined
        ? Buffer.from(image.b64Json, 'base64')
        : await fetched(image, i, images.length, options, context, requestId),
    );
  }
  const typed = images.map((image, i) => {
    const mediaType = image.mediaType ?? sniffMediaType(contents[i] as Uint8Array);
    return mediaType === undefined ? image : { ...image, mediaType };
  });
  const paths = savePaths(
    saveTo,
    typed.map((image) => image.mediaType),
    images.length > 1 || askedForSeveral,
  );
  const saved: GeneratedImage[] = [];
  for (const [i, image] of typed.entries()) {
    const file = paths[i] as string;
    await writeImageFile(file, contents[i] as Uint8Array);
    saved.push({ ...image, path: file });
  }
  return saved;
}

async function fetched(
  image: GeneratedImage,
  index: number,
  count: number,
  options: GenerateImageOptions,
  context: ImageCallContext,
  requestId: string | undefined,
): Promise<Uint8Array> {
  try {
    return await download(new URL(image.url as string), {
      transport: context.transport,
      timeout: options.timeout ?? context.timeout,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof DownloadFailure)) throw error;
    throw new ResponseValidationError(
      `Image ${index + 1} of ${count} was generated, but downloading it for saveTo failed: ${error.message}.`,
      {
        cause: error,
        requestId,
        hint: 'Call generateImage without saveTo to get the URLs and fetch them yourself, or ask for responseFormat "b64_json".',
      },
    );
  }
}
