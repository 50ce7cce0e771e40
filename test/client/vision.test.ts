// Images in chat against the reference backend, which validates each provider's layout strictly
// (dev/backend/vision.ts) and describes the images it received ("I see 2 images (image/png 4x4,
// ...)"): every kind of input, the three layouts, streams, the limits (nothing sent), scaling,
// downloads without credentials and through the client's dispatcher, and `thinking`.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectProxy, startConnectProxy } from '../../dev/middlemen.js';
import { prepareImages } from '../../src/client/images/prepare.js';
import { ErrorCode } from '../../src/errors/codes.js';
import { ImageInputError } from '../../src/errors/mesh-error.js';
import { createLogger } from '../../src/internal/logger.js';
import { clientWithTokens } from '../helpers/client.js';
import { dataUrlOf, gifBytes, jpegBytes, pngBytes, webpBytes } from '../helpers/images.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
const allRequests = () => Object.values(stack.backend.counters.requests).reduce((sum, n) => sum + n, 0);
/** The backend's counters are not reset between tests: each test reads what it changed. */
function counted(name: 'chats' | 'chatImages' | 'thinkingChats'): () => number {
  const before = stack.backend.counters[name];
  return () => stack.backend.counters[name] - before;
}

/** An image host on loopback: serves PNGs, records each request's headers. */
interface ImageHost {
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

let host: ImageHost;
let folder: string;

async function startImageHost(): Promise<ImageHost> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/cat.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(pngBytes(6, 5));
    if (req.url === '/moved') return void res.writeHead(302, { location: '/cat.png' }).end();
    // Announces more than an image may have: refused before a byte of the body is read.
    if (req.url === '/huge.png') return void res.writeHead(200, { 'content-length': String(33 * 1024 * 1024) }).end();
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

beforeAll(async () => {
  host = await startImageHost();
  folder = await mkdtemp(join(tmpdir(), 'mesh-vision-'));
});
afterAll(async () => {
  await host?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('every kind of image input', () => {
  it('a path, a file: URL, a data: URL, an http URL, bytes, an ArrayBuffer, a Blob and { data, mediaType }', async () => {
    const { client } = await clientWithTokens(stack);
    const images = counted('chatImages');
    const path = join(folder, 'small.jpg');
    await writeFile(path, jpegBytes(10, 10));
    const first = await client.chat('What are these?', {
      images: [path, pathToFileURL(path), dataUrlOf(gifBytes(3, 2), 'image/gif'), `${host.url}/cat.png`, webpBytes(5, 7)],
    });
    expect(first.content).toBe(
      'I see 5 images (image/jpeg 10x10, image/jpeg 10x10, image/gif 3x2, image/png 6x5, image/webp 5x7). Echo: What are these?',
    );
    const png = pngBytes(4, 3);
    const second = await client.chat('And these?', {
      images: [
        png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength),
        new Blob([pngBytes(2, 2)], { type: 'image/png' }),
        { data: jpegBytes(9, 8), mediaType: 'image/jpeg' },
        new URL(`${host.url}/moved`),
      ],
    });
    expect(second.content).toBe('I see 4 images (image/png 4x3, image/png 2x2, image/jpeg 9x8, image/png 6x5). Echo: And these?');
    expect(images()).toBe(9);
  });

  it('downloads an http(s) image without any Mesh credential', async () => {
    host.seen.length = 0;
    const { client } = await clientWithTokens(stack);
    await client.chat('look', { images: `${host.url}/moved` });
    expect(host.seen).toHaveLength(2); // the redirect, then the image
    for (const headers of host.seen) {
      expect(headers.authorization).toBeUndefined();
      expect(headers['x-api-key']).toBeUndefined();
      expect(headers.cookie).toBeUndefined();
    }
  });

  it('downloads through the client’s dispatcher, so a proxy applies to the image host too', async () => {
    let proxy: ConnectProxy | undefined;
    try {
      proxy = await startConnectProxy();
      const dispatcher = new ProxyAgent(proxy.url);
      const { client } = await clientWithTokens(stack, { dispatcher });
      await client.chat('look', { images: `${host.url}/cat.png` });
      expect(proxy.tunnels.map((t) => t.target)).toContain(new URL(host.url).host);
      await dispatcher.close();
    } finally {
      await proxy?.close();
    }
  });
});

describe('the layout each provider gets (the backend refuses any other)', () => {
  it.each([
    ['openai', 'gpt-4o'],
    ['anthropic', 'claude-3-5-sonnet-20241022'],
    ['google', 'gemini-1.5-pro'],
    ['google', 'gemini-2.0-flash-exp-image-generation'],
  ])('%s (%s)', async (provider, model) => {
    const { client } = await clientWithTokens(stack);
    const reply = await client.chat('Describe', { provider, model, images: [pngBytes(4, 4), jpegBytes(16, 8)] });
    expect(reply.content).toBe('I see 2 images (image/png 4x4, image/jpeg 16x8). Echo: Describe');
  });

  it('streams with images too, laid out for the model’s provider (a stream names none)', async () => {
    const { client } = await clientWithTokens(stack);
    let text = '';
    for await (const delta of client.chatStream('Describe', { model: 'claude-3-5-sonnet-20241022', images: gifBytes(3, 3) })) {
      text += delta;
    }
    expect(text).toBe('I see 1 image (image/gif 3x3). Echo: Describe');
  });

  it('puts the images on the last user message of a conversation', async () => {
    const { client } = await clientWithTokens(stack);
    const reply = await client.chat(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'What is this?' },
      ],
      { provider: 'anthropic', images: webpBytes(2, 2) },
    );
    expect(reply.content).toBe('I see 1 image (image/webp 2x2). Echo: What is this?');
  });

  it('replaces a default model that cannot see with the provider’s vision model, never a named one', async () => {
    const { client } = await clientWithTokens(stack, { env: { DEFAULT_MODEL: 'gpt-3.5-turbo' } });
    expect((await client.chat('x', { images: pngBytes(2, 2) })).model).toBe('gpt-4o');
    expect((await client.chat('x', { model: 'gpt-3.5-turbo', images: pngBytes(2, 2) })).model).toBe('gpt-3.5-turbo');
    expect((await client.chat('x')).model).toBe('gpt-3.5-turbo');
  });
});

describe('refused before anything is sent', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['six images', () => Array.from({ length: 6 }, () => pngBytes(2, 2)), ErrorCode.IMAGE_TOO_MANY],
    ['a missing file', () => join(tmpdir(), 'no-such-image.png'), ErrorCode.IMAGE_UNREADABLE],
    ['an empty buffer', () => new Uint8Array(0), ErrorCode.IMAGE_UNREADABLE],
    ['a data: URL that is not base64', () => 'data:image/png,abc', ErrorCode.IMAGE_UNREADABLE],
    ['a data: URL with broken base64', () => 'data:image/png;base64,iVBO*w0K', ErrorCode.IMAGE_UNREADABLE],
    ['an image host answering 404', () => `${host.url}/gone.png`, ErrorCode.IMAGE_UNREADABLE],
    ['an image over 32 MiB', () => `${host.url}/huge.png`, ErrorCode.IMAGE_UNREADABLE],
    ['text, not an image', () => Buffer.from('GIF? no, a text file'), ErrorCode.IMAGE_UNSUPPORTED_TYPE],
    ['a stated type the bytes deny', () => ({ data: pngBytes(2, 2), mediaType: 'image/jpeg' }), ErrorCode.IMAGE_UNSUPPORTED_TYPE],
    ['a data: URL whose type the bytes deny', () => dataUrlOf(pngBytes(2, 2), 'image/webp'), ErrorCode.IMAGE_UNSUPPORTED_TYPE],
  ];
  it.each(cases)('%s', async (_name, images, code) => {
    const { client } = await clientWithTokens(stack);
    const before = allRequests();
    const chats = counted('chats');
    const error = await client.chat('x', { images: images() as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageInputError);
    expect((error as ImageInputError).code).toBe(code);
    // Not even the profile: the client never reached the backend.
    expect(allRequests()).toBe(before);
    expect(chats()).toBe(0);
  });
});

describe('scaling to 1.15 MP and 1568 px', () => {
  it('sends a 3000x2000 PNG as 1313x875 (sharp, Lanczos), and a JPEG stays a JPEG', async () => {
    const { client } = await clientWithTokens(stack);
    const reply = await client.chat('big', { images: [pngBytes(3000, 2000), jpegBytes(1600, 1200)] });
    expect(reply.content).toBe('I see 2 images (image/png 1313x875, image/jpeg 1238x928). Echo: big');
  }, 30_000);

  it('without sharp, sends the image as it is, with one warning per client', async () => {
    const warnings: string[] = [];
    const logger = createLogger({ logger: { debug() {}, warn: (line) => warnings.push(line) } });
    const big = pngBytes(1600, 1200);
    const context = { transport: undefined as never, logger, timeout: 1000, loadSharp: async () => undefined };
    const [first] = await prepareImages(big, context);
    await prepareImages([big, big], context);
    expect(first?.base64).toBe(big.toString('base64'));
    expect(warnings).toEqual([
      'An image of 1600x1200 px goes unscaled: scaling needs the optional package sharp (npm install sharp).',
    ]);
  });
});

describe('thinking', () => {
  it('sends "thinking": true only when set, in chats and streams', async () => {
    const { client } = await clientWithTokens(stack);
    const [chats, thinking] = [counted('chats'), counted('thinkingChats')];
    await client.chat('a');
    await client.chat('b', { thinking: false });
    expect(thinking()).toBe(0);
    await client.chat('c', { thinking: true });
    for await (const _delta of client.chatStream('d', { thinking: true }));
    expect(thinking()).toBe(2);
    expect(chats()).toBe(4);
  });
});
