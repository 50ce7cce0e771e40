/**
 * What the reference backend can tell from an image's bytes: its media type (magic bytes: JPEG,
 * PNG, GIF, WebP, the four the Python client 1.5.6 names), its width and height (from the headers),
 * and whether the file is whole. No pixel is decoded: the checks are the ones that catch an image
 * mangled on the way (truncated, base64 of the wrong thing, a wrong media type), cheaply.
 */
import { crc32 } from 'node:zlib';

export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export const isImageMediaType = (value: unknown): value is ImageMediaType =>
  (IMAGE_MEDIA_TYPES as readonly unknown[]).includes(value);

export interface ImageFacts {
  mediaType: ImageMediaType;
  width: number;
  height: number;
}

/** Why bytes are not a usable image; the message is meant for a 400's text. */
export class ImageProblem extends Error {}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Strict base64 (RFC 4648 section 4, padded, no whitespace, no URL-safe alphabet), as Python's
 * `base64.b64encode` writes it. Node's decoder skips what it does not understand, so the bytes
 * are encoded again and compared: anything but the canonical text is refused.
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (text === '' || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The media type the magic bytes name, or undefined. */
export function sniffMediaType(bytes: Uint8Array): ImageMediaType | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  const ascii = (start: number, end: number) => b.subarray(start, end).toString('latin1');
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** Media type, width and height of a whole JPEG, PNG, GIF or WebP file; an ImageProblem otherwise. */
export function inspectImage(bytes: Uint8Array): ImageFacts {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mediaType = sniffMediaType(b);
  if (mediaType === undefined) throw new ImageProblem('the bytes are not a JPEG, PNG, GIF or WebP image (magic bytes)');
  const size = DIMENSIONS[mediaType](b);
  if (size.width < 1 || size.height < 1) throw new ImageProblem(`the ${mediaType} image has no pixels`);
  return { mediaType, ...size };
}

type Size = { width: number; height: number };

const DIMENSIONS: Record<ImageMediaType, (b: Buffer) => Size> = {
  'image/png': pngSize,
  'image/jpeg': jpegSize,
  'image/gif': gifSize,
  'image/webp': webpSize,
};

const truncated = (type: string) => new ImageProblem(`the ${type} image is truncated or corrupt`);

/** Walks every chunk and checks its CRC: IHDR first, at least one IDAT, IEND last. */
function pngSize(b: Buffer): Size {
  let offset = 8;
  let size: Size | undefined;
  let sawData = false;
  while (offset + 12 <= b.length) {
    const length = b.readUInt32BE(offset);
    const type = b.subarray(offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > b.length) break;
    const data = b.subarray(offset + 8, offset + 8 + length);
    if (crc32(data, crc32(type)) !== b.readUInt32BE(offset + 8 + length)) throw new ImageProblem('a PNG chunk fails its CRC');
    const name = type.toString('latin1');
    if (size === undefined) {
      if (name !== 'IHDR' || length !== 13) throw truncated('image/png');
      size = { width: data.readUInt32BE(0), height: data.readUInt32BE(4) };
    }
    if (name === 'IDAT') sawData = true;
    if (name === 'IEND') {
      if (end !== b.length || !sawData) throw truncated('image/png');
      return size;
    }
    offset = end;
  }
  throw truncated('image/png');
}

/** The frame header (SOFn) gives the size; the file must end with EOI. */
function jpegSize(b: Buffer): Size {
  if (b.length < 4 || b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) throw truncated('image/jpeg');
  let offset = 2;
  while (offset + 4 <= b.length) {
    if (b[offset] !== 0xff) throw truncated('image/jpeg');
    const marker = b[offset + 1] as number;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    const length = b.readUInt16BE(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > b.length) break;
      return { height: b.readUInt16BE(offset + 5), width: b.readUInt16BE(offset + 7) };
    }
    // Image data (SOS) before any frame header: not a JPEG a decoder can size.
    if (marker === 0xda || marker === 0xd9) break;
    offset += 2 + length;
  }
  throw truncated('image/jpeg');
}

/** The logical screen size; the file must end with the trailer (0x3B). */
function gifSize(b: Buffer): Size {
  if (b.length < 14 || b[b.length - 1] !== 0x3b) throw truncated('image/gif');
  return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
}

/** The RIFF length must be the file's; the first chunk (VP8, VP8L or VP8X) gives the size. */
function webpSize(b: Buffer): Size {
  if (b.length < 30 || b.readUInt32LE(4) + 8 !== b.length) throw truncated('image/webp');
  const chunk = b.subarray(12, 16).toString('latin1');
  if (chunk === 'VP8 ') {
    // Key frame: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw truncated('image/webp');
    return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    // Signature 0x2F, then width-1 and height-1 in 14 bits each, least significant bit first.
    if (b[20] !== 0x2f) throw truncated('image/webp');
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  }
  throw truncated('image/webp');
}
