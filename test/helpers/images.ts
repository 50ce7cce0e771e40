/**
 * Small, real image files built in memory, for tests that send images: every one is a whole file
 * that decodes (to the pixels described below), not just a header that passes a sniffer.
 *
 *   pngBytes(4, 4)               8-bit RGB, a gradient (zlib)
 *   jpegBytes(10, 10)            baseline JFIF, greyscale; each 8x8 block one shade (so DC only)
 *   gifBytes(3, 2)               GIF89a, 4 colours, LZW with a clear code every two pixels
 *   webpBytes(5, 7)              lossless WebP (VP8L) of one colour: five one-symbol prefix codes, zero bits a pixel
 *
 * They are built independently of the reference backend's code (dev/backend/image-bytes.ts reads
 * them; this file writes them), so a test that sends one proves the backend's reading too. Checked
 * once by hand in Chromium (every kind at 1x1 to 1600x1200 decodes, at its size, with the pixels
 * meant). A side may be 1 to 65535 px (WebP: 16384). Sizes on disk: WebP 34 bytes whatever the
 * size; JPEG ~27 KB, PNG ~590 KB, GIF ~1.1 MB at 1600x1200 (over Python's 1.15 MP, for scaling).
 * Each is a `Buffer<ArrayBuffer>`: its `.buffer` is a plain ArrayBuffer, to pass as one.
 */
import { crc32, deflateSync } from 'node:zlib';

export type ImageKind = 'png' | 'jpeg' | 'gif' | 'webp';

export const MEDIA_TYPES: Record<ImageKind, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** An image of that kind and size. */
export function imageBytes(kind: ImageKind, width: number, height: number): Buffer<ArrayBuffer> {
  return { png: pngBytes, jpeg: jpegBytes, gif: gifBytes, webp: webpBytes }[kind](width, height);
}

/** `data:<mime>;base64,...`, as the OpenAI layout carries an image. */
export function dataUrlOf(bytes: Uint8Array, mediaType: string): string {
  return `data:${mediaType};base64,${Buffer.from(bytes).toString('base64')}`;
}

function sizeCheck(width: number, height: number, max: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > max || height > max) {
    throw new RangeError(`image size ${width}x${height}: each side must be an integer from 1 to ${max}`);
  }
}

// --- PNG ---------------------------------------------------------------------------------------

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** 8-bit RGB PNG; the colour runs from red (left) to blue (right) and darker downwards. */
export function pngBytes(width: number, height: number): Buffer<ArrayBuffer> {
  sizeCheck(width, height, 65535);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // depth 8, RGB, deflate, filter method 0, not interlaced
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height); // each row: filter type 0, then the pixels
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const across = width === 1 ? 0 : x / (width - 1);
      const shade = height === 1 ? 1 : 1 - (0.5 * y) / (height - 1);
      const at = y * stride + 1 + x * 3;
      raw[at] = Math.round(255 * (1 - across) * shade);
      raw[at + 1] = 64;
      raw[at + 2] = Math.round(255 * across * shade);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// --- JPEG --------------------------------------------------------------------------------------

/** Bits most significant first, with JPEG's byte stuffing (0xFF is followed by 0x00). */
class JpegBits {
  readonly bytes: number[] = [];
  #current = 0;
  #count = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i -= 1) {
      this.#current = (this.#current << 1) | ((value >> i) & 1);
      this.#count += 1;
      if (this.#count === 8) {
        this.bytes.push(this.#current);
        if (this.#current === 0xff) this.bytes.push(0x00);
        this.#current = 0;
        this.#count = 0;
      }
    }
  }

  /** Pads the last byte with 1 bits, as the standard asks. */
  finish(): number[] {
    if (this.#count > 0) this.write((1 << (8 - this.#count)) - 1, 8 - this.#count);
    return this.bytes;
  }
}

function segment(marker: number, body: number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

/**
 * Baseline JFIF, one greyscale component, every 8x8 block a single shade (a diagonal ramp): each
 * block is then its DC coefficient alone, so the encoder needs no DCT. Quantisation all 1s; two
 * small Huffman tables of its own (DC: categories 0-11, four bits each; AC: only end-of-block).
 */
export function jpegBytes(width: number, height: number): Buffer<ArrayBuffer> {
  sizeCheck(width, height, 65535);
  const blocksAcross = Math.ceil(width / 8);
  const blocksDown = Math.ceil(height / 8);
  const bits = new JpegBits();
  let previous = 0;
  for (let by = 0; by < blocksDown; by += 1) {
    for (let bx = 0; bx < blocksAcross; bx += 1) {
      const steps = Math.max(1, blocksAcross + blocksDown - 2);
      const shade = Math.round(40 + (180 * (bx + by)) / steps);
      const dc = 8 * (shade - 128); // the DC of a flat block with quantiser 1
      const diff = dc - previous;
      previous = dc;
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      bits.write(category, 4); // DC table: symbol c has the 4-bit code c
      if (category > 0) bits.write(diff > 0 ? diff : diff + (1 << category) - 1, category);
      bits.write(0, 1); // AC table: end-of-block has the 1-bit code 0
    }
  }
  const dcCounts = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const acCounts = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  return Buffer.from([
    0xff,
    0xd8, // SOI
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // APP0 "JFIF", 1.1, no thumbnail
    ...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // DQT 0: 8-bit, all ones
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0, 1 component
    ...segment(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i)]), // DHT DC 0
    ...segment(0xc4, [0x10, ...acCounts, 0x00]), // DHT AC 0
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS: component 1, tables 0/0, full spectrum
    ...bits.finish(),
    0xff,
    0xd9, // EOI
  ]);
}

// --- GIF ---------------------------------------------------------------------------------------

/**
 * GIF89a with a 4-colour global table. The LZW stream sends a clear code before every pair of
 * pixels, so the code size stays 3 bits and no dictionary is needed (larger than LZW proper, and
 * valid: decoders reset on each clear).
 */
export function gifBytes(width: number, height: number): Buffer<ArrayBuffer> {
  sizeCheck(width, height, 65535);
  const palette = [255, 0, 0, 0, 160, 0, 0, 0, 255, 255, 255, 255];
  const clear = 4;
  const end = 5;
  const pixels = width * height;
  const codeCount = pixels + Math.ceil(pixels / 2) + 1;
  const packed = new Uint8Array(Math.ceil((codeCount * 3) / 8));
  let bit = 0;
  const put = (code: number) => {
    for (let i = 0; i < 3; i += 1, bit += 1)
      if ((code >> i) & 1) packed[bit >> 3] = (packed[bit >> 3] as number) | (1 << (bit & 7));
  };
  for (let i = 0; i < pixels; i += 1) {
    if (i % 2 === 0) put(clear);
    put(((i % width) + Math.floor(i / width)) % 4); // a diagonal of the four colours
  }
  put(end);
  // The data goes in sub-blocks of at most 255 bytes, each after its length.
  const blocks = Buffer.alloc(packed.length + Math.ceil(packed.length / 255));
  let at = 0;
  for (let i = 0; i < packed.length; i += 255) {
    const block = packed.subarray(i, i + 255);
    blocks[at] = block.length;
    blocks.set(block, at + 1);
    at += 1 + block.length;
  }
  const le = (n: number) => [n & 0xff, n >> 8];
  const head = Buffer.from([
    ...Buffer.from('GIF89a', 'latin1'),
    ...le(width),
    ...le(height),
    0x81, // a global colour table of 2^(1+1) = 4 entries
    0,
    0,
    ...palette,
    0x2c, // image descriptor: the whole screen, no local table
    0,
    0,
    0,
    0,
    ...le(width),
    ...le(height),
    0,
    2, // LZW minimum code size: clear = 4, end = 5
  ]);
  return Buffer.concat([head, blocks, Buffer.from([0, 0x3b])]); // end of the image data, trailer
}

// --- WebP --------------------------------------------------------------------------------------

/** Bits least significant first, as VP8L reads them. */
class LsbBits {
  readonly bytes: number[] = [];
  #current = 0;
  #count = 0;

  write(value: number, length: number): void {
    for (let i = 0; i < length; i += 1) {
      this.#current |= ((value >> i) & 1) << this.#count;
      this.#count += 1;
      if (this.#count === 8) {
        this.bytes.push(this.#current);
        this.#current = 0;
        this.#count = 0;
      }
    }
  }

  finish(): number[] {
    if (this.#count > 0) this.bytes.push(this.#current);
    return this.bytes;
  }
}

/**
 * Lossless WebP (VP8L) of one colour (teal, opaque): no transforms, no colour cache, no meta codes,
 * and five "simple" prefix codes of one symbol each (green, red, blue, alpha, distance). A prefix
 * code with one symbol takes zero bits, so the pixels cost nothing and the file is ~40 bytes.
 */
export function webpBytes(width: number, height: number): Buffer<ArrayBuffer> {
  sizeCheck(width, height, 16384);
  const bits = new LsbBits();
  bits.write(0x2f, 8); // VP8L signature
  bits.write(width - 1, 14);
  bits.write(height - 1, 14);
  bits.write(0, 1); // alpha_is_used: a hint only
  bits.write(0, 3); // version 0
  bits.write(0, 1); // no transform
  bits.write(0, 1); // no colour cache
  bits.write(0, 1); // no meta prefix codes
  const [green, red, blue, alpha, distance] = [128, 0, 128, 255, 0];
  for (const symbol of [green, red, blue, alpha, distance]) {
    bits.write(1, 1); // simple code
    bits.write(0, 1); // one symbol
    bits.write(1, 1); // written in 8 bits
    bits.write(symbol, 8);
  }
  const data = bits.finish();
  const padded = data.length % 2 === 1 ? [...data, 0] : data;
  const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  const chunk = [...Buffer.from('VP8L', 'latin1'), ...u32(data.length), ...padded];
  return Buffer.from([...Buffer.from('RIFF', 'latin1'), ...u32(4 + chunk.length), ...Buffer.from('WEBP', 'latin1'), ...chunk]);
}
