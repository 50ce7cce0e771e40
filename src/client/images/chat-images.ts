/**
 * The image side of a chat, loaded by the first chat that carries images (mesh-client.ts imports
 * it dynamically): read and prepare the images, then lay them out in the body. A program that
 * never sends an image never loads this module, its helpers, or sharp.
 */
import { bodyWithImages } from './layout.js';
import { type PrepareContext, prepareImages } from './prepare.js';
import type { ImageInput } from './types.js';

export async function chatBodyWithImages(
  body: Record<string, unknown>,
  target: { provider: string; modelNamed: boolean },
  images: ImageInput | readonly ImageInput[],
  context: PrepareContext,
): Promise<Record<string, unknown>> {
  return bodyWithImages(body, target, await prepareImages(images, context));
}
