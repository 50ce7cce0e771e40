/**
 * Scaling an image down to what the providers read best (client.py 1.5.6, after Anthropic's
 * guidance): at most 1.15 megapixels and 1568 px on the long edge, the aspect ratio kept. sharp
 * does the work, loaded by the first image that needs it; without sharp (an optional dependency,
 * absent where no prebuilt binary exists) the image goes as it is, with one warning per client.
 */
import type { InternalLogger } from '../../internal/logger.js';
import { type Dimensions, imageDimensions } from './dimensions.js';
import type { ImageMediaType } from './media-type.js';

export const MAX_PIXELS = 1_150_000; // 1.15 MP
export const MAX_LONG_EDGE = 1568; // px

/** The part of sharp used here: resize and re-encode in the same format. */
export interface SharpPipeline {
  resize(width: number, height: number, options: { kernel: 'lanczos3'; fit: 'fill' }): SharpPipeline;
  toFormat(format: 'jpeg' | 'png' | 'gif' | 'webp'): SharpPipeline;
  toBuffer(): Promise<Buffer>;
}
export type SharpFactory = (input: Uint8Array) => SharpPipeline;

/** Loads sharp, or answers undefined when it is not installed (or cannot load on this platform). */
export type SharpLoader = () => Promise<SharpFactory | undefined>;

let loaded: Promise<SharpFactory | undefined> | undefined;

/** sharp, imported once per process on first need. */
export const loadSharp: SharpLoader = () => {
  loaded ??= import('sharp').then(
    (module) => ((module as { default?: unknown }).default ?? module) as SharpFactory,
    () => undefined,
  );
  return loaded;
};

/** The size that fits both bounds, or undefined when the image already does (Python's `min` of the two scales). */
export function fitWithin({ width, height }: Dimensions): Dimensions | undefined {
  const pixels = width * height;
  const longEdge = Math.max(width, height);
  if (pixels <= MAX_PIXELS && longEdge <= MAX_LONG_EDGE) return undefined;
  const scale = Math.min(MAX_LONG_EDGE / longEdge, Math.sqrt(MAX_PIXELS / pixels));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

export interface ScaleContext {
  logger: InternalLogger;
  loadSharp: SharpLoader;
}

const FORMATS = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp' } as const;

/**
 * The image within the bounds, in its own format; the same bytes when it already fits, when its
 * header cannot be read, or when sharp is missing or fails (as the Python SDK sends the original
 * when Pillow fails), each time with a warning.
 */
export async function scaleToFit(bytes: Uint8Array, mediaType: ImageMediaType, context: ScaleContext): Promise<Uint8Array> {
  const size = imageDimensions(bytes, mediaType);
  const target = size && fitWithin(size);
  if (!size || !target) return bytes;
  const sharp = await context.loadSharp();
  if (!sharp) {
    context.logger.warnOnce(
      'sharp-missing',
      `An image of ${size.width}x${size.height} px goes unscaled: scaling needs the optional package sharp (npm install sharp).`,
    );
    return bytes;
  }
  try {
    return await sharp(bytes)
      .resize(target.width, target.height, { kernel: 'lanczos3', fit: 'fill' })
      .toFormat(FORMATS[mediaType])
      .toBuffer();
  } catch (error) {
    context.logger.warn(
      `Scaling an image of ${size.width}x${size.height} px failed; it goes unscaled: ${(error as Error).message}`,
    );
    return bytes;
  }
}
