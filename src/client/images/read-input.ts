/**
 * The bytes of one `ImageInput`, and the media type its source states (if any): a file path, a
 * `data:` URL, an http(s) URL (downloaded credential-free), a `file:` URL, or bytes in any of
 * their forms. Every read is bounded (MAX_IMAGE_BYTES); every failure is an ImageInputError
 * (`image_unreadable`) raised before anything is sent.
 */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../errors/codes.js';
import { AbortError, ImageInputError } from '../../errors/mesh-error.js';
import { DownloadFailure, MAX_IMAGE_BYTES, shownUrl } from './download.js';
import type { ImageInput } from './types.js';

export interface ImageBytes {
  bytes: Uint8Array;
  /** The media type the source states: a `data:` URL's, a Blob's, `{ mediaType }`. */
  stated?: string;
  /** How an error names this image (never a URL's query, never the bytes). */
  label: string;
}

export interface ReadContext {
  /** Downloads an http(s) URL: see download.ts. */
  fetch(url: URL): Promise<Uint8Array>;
}

function unreadable(message: string, cause?: unknown): ImageInputError {
  return new ImageInputError(message, { code: ErrorCode.IMAGE_UNREADABLE, cause });
}

function tooLarge(label: string, size: number): ImageInputError {
  return unreadable(`${label} is ${size} bytes, more than the ${MAX_IMAGE_BYTES} an image may have.`);
}

function checked(bytes: Uint8Array, label: string, stated?: string): ImageBytes {
  if (bytes.length === 0) throw unreadable(`${label} is empty.`);
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge(label, bytes.length);
  return stated === undefined || stated === '' ? { bytes, label } : { bytes, label, stated };
}

async function readFileBounded(path: string): Promise<ImageBytes> {
  const label = `The image file ${path}`;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_IMAGE_BYTES) throw tooLarge(label, size);
      return checked(await handle.readFile(), label);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ImageInputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw unreadable(`${label} could not be read (${code ?? (error as Error).message}).`, error);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `data:[<type>][;param...];base64,<data>`: base64 only (an image in percent-encoding is not worth the parser). */
function fromDataUrl(url: string): ImageBytes {
  const label = 'A data: URL image';
  const comma = url.indexOf(',');
  if (comma < 0) throw unreadable(`${label} has no comma before its data.`);
  const header = url.slice(5, comma).split(';');
  if (header.at(-1)?.toLowerCase() !== 'base64') throw unreadable(`${label} is not base64 (";base64," is missing).`);
  const data = url.slice(comma + 1).replace(/\s+/g, '');
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw unreadable(`${label} holds invalid base64.`);
  return checked(Buffer.from(data, 'base64'), label, header[0]);
}

async function fromUrl(url: URL, context: ReadContext): Promise<ImageBytes> {
  if (url.protocol === 'file:') return readFileBounded(fileURLToPath(url));
  if (url.protocol === 'data:') return fromDataUrl(url.href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw unreadable(`An image URL must be http(s), file: or data:, not ${url.protocol}`);
  }
  const label = `The image at ${shownUrl(url)}`;
  try {
    return checked(await context.fetch(url), label);
  } catch (error) {
    if (error instanceof AbortError || error instanceof ImageInputError) throw error;
    if (error instanceof DownloadFailure) throw unreadable(`${label} could not be downloaded: ${error.message}.`, error);
    throw unreadable(`${label} could not be downloaded.`, error);
  }
}

/** The bytes of one input; `index` names it in errors ("image 2"). */
export async function readImageInput(input: ImageInput, index: number, context: ReadContext): Promise<ImageBytes> {
  if (typeof input === 'string') {
    if (/^data:/i.test(input)) return fromDataUrl(input);
    if (/^(https?|file):\/\//i.test(input)) {
      let url: URL;
      try {
        url = new URL(input);
      } catch (error) {
        throw unreadable(`Image ${index + 1} is not a valid URL.`, error);
      }
      return fromUrl(url, context);
    }
    if (input === '') throw unreadable(`Image ${index + 1} is an empty path.`);
    return readFileBounded(input);
  }
  if (input instanceof URL) return fromUrl(input, context);
  if (input instanceof Uint8Array) return checked(input, `Image ${index + 1} (bytes)`);
  if (input instanceof ArrayBuffer) return checked(new Uint8Array(input), `Image ${index + 1} (bytes)`);
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const label = `Image ${index + 1} (a Blob)`;
    if (input.size > MAX_IMAGE_BYTES) throw tooLarge(label, input.size);
    return checked(new Uint8Array(await input.arrayBuffer()), label, input.type);
  }
  if (typeof input === 'object' && input !== null && (input as { data?: unknown }).data instanceof Uint8Array) {
    const { data, mediaType } = input as { data: Uint8Array; mediaType?: string };
    return checked(data, `Image ${index + 1} (bytes)`, mediaType);
  }
  throw unreadable(`Image ${index + 1} is not a path, a URL or bytes (${typeof input}).`);
}
