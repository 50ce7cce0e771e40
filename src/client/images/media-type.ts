/**
 * An image's media type from its first bytes (its "magic number"), as the Python SDK reads it
 * with imghdr: the four types every provider accepts. Nothing else is guessed (no extension, no
 * server header): the bytes are what the provider will judge.
 */

/** The image types a chat or an edit may carry. */
export type ImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');

/** The media type the bytes show, or undefined when they are none of JPEG, PNG, GIF and WebP. */
export function sniffMediaType(bytes: Uint8Array): ImageMediaType | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'image/webp';
  return undefined;
}

/** A stated media type as compared with the sniffed one: lower case, no parameters, `image/jpg` read as `image/jpeg`. */
export function normalizeMediaType(stated: string): string {
  const type = stated.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'image/jpg' || type === 'image/pjpeg' ? 'image/jpeg' : type;
}

/** The file extension for a media type, with its dot. */
export function extensionFor(mediaType: string | undefined): string {
  switch (mediaType) {
    case 'image/jpeg':
      return '.jpg';
    case 'image/gif':
      return '.gif';
    case 'image/webp':
      return '.webp';
    default:
      return '.png'; // the Python SDK's choice when it cannot tell
  }
}
