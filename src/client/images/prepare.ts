/**
 * The images of one chat, ready to lay out: at most 5 (the Python SDK's limit), each read,
 * typed from its bytes (a stated type must agree), scaled to fit, and encoded to base64 once.
 * Every failure is an ImageInputError thrown here, before a byte of the request is sent.
 */

import { ErrorCode } from '../../errors/codes.js';
import { ImageInputError } from '../../errors/mesh-error.js';
import type { Transport } from '../../http/transport.js';
import type { InternalLogger } from '../../internal/logger.js';
import { download } from './download.js';
import { type ImageMediaType, normalizeMediaType, sniffMediaType } from './media-type.js';
import { type ImageBytes, readImageInput } from './read-input.js';
import { loadSharp, type SharpLoader, scaleToFit } from './scale.js';
import type { ImageInput } from './types.js';

export const MAX_IMAGES = 5;

/** One image as every provider layout needs it. */
export interface PreparedImage {
  mediaType: ImageMediaType;
  /** The bytes in base64, without a `data:` prefix: built once, shared by the layout. */
  base64: string;
}

export interface PrepareContext {
  transport: () => Promise<Transport>;
  logger: InternalLogger;
  /** Bounds each download, ms. */
  timeout: number;
  signal?: AbortSignal;
  /** Whether to scale down to the providers' bounds. An edit sends the image as given. @default true */
  scale?: boolean;
  /** @default sharp, imported on first need */
  loadSharp?: SharpLoader;
}

/** The input(s) as a list: one input or an array of them. */
export function imageList(images: ImageInput | readonly ImageInput[]): readonly ImageInput[] {
  return Array.isArray(images) ? images : [images as ImageInput];
}

/** The bytes' media type, checked against the stated one. */
export function typedImage({ bytes, stated, label }: ImageBytes): ImageMediaType {
  const sniffed = sniffMediaType(bytes);
  if (sniffed === undefined) {
    throw new ImageInputError(`${label} is not a JPEG, PNG, GIF or WebP image.`, { code: ErrorCode.IMAGE_UNSUPPORTED_TYPE });
  }
  if (stated !== undefined && normalizeMediaType(stated) !== sniffed) {
    throw new ImageInputError(`${label} is said to be ${stated}, but its bytes are ${sniffed}.`, {
      code: ErrorCode.IMAGE_UNSUPPORTED_TYPE,
    });
  }
  return sniffed;
}

/** One image read, typed and (unless `scale: false`) scaled. */
export async function prepareImage(input: ImageInput, index: number, context: PrepareContext): Promise<PreparedImage> {
  const read = await readImageInput(input, index, {
    fetch: (url) => download(url, { transport: context.transport, timeout: context.timeout, signal: context.signal }),
  });
  const mediaType = typedImage(read);
  const bytes =
    context.scale === false
      ? read.bytes
      : await scaleToFit(read.bytes, mediaType, { logger: context.logger, loadSharp: context.loadSharp ?? loadSharp });
  return { mediaType, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** Every image of a chat, in order. Reads them one after another: five 30 MB downloads at once would hold 150 MB. */
export async function prepareImages(
  images: ImageInput | readonly ImageInput[],
  context: PrepareContext,
): Promise<PreparedImage[]> {
  const list = imageList(images);
  if (list.length > MAX_IMAGES) {
    throw new ImageInputError(`${list.length} images were given; a chat may carry at most ${MAX_IMAGES}.`, {
      code: ErrorCode.IMAGE_TOO_MANY,
    });
  }
  const prepared: PreparedImage[] = [];
  for (const [index, input] of list.entries()) prepared.push(await prepareImage(input, index, context));
  return prepared;
}
