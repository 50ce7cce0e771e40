// Images in a chat: a path, a URL or bytes, up to 5, laid out as the provider expects. Run after
// `npx mesh-auth`, with your own picture: `npx tsx examples/vision-chat.ts ./photo.jpg` (or an
// https:// URL). Without one it sends a tiny built-in PNG.
import { chat, ImageInputError, MeshClient } from 'mesh-sdk';

const TINY_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAG0lEQVR4nGP478DQ4NDA4PAfSDE4ODgwODQAAEN2Bf/So1NVAAAAAElFTkSuQmCC';
const image = process.argv[2] ?? TINY_PNG;

// The top-level helper: the default client picks a model that can see (gpt-4o unless configured).
const reply = await chat('What is in this picture?', { images: image });
console.log(reply.content);
console.log(`model ${reply.model} (${reply.provider})`);

// Another provider gets another layout (Claude: images before the text); `thinking` asks the model to think first.
const client = new MeshClient();
const claude = await client.chat('Describe it in one line.', { provider: 'anthropic', images: [image], thinking: true });
console.log(claude.content);

// A bad image is refused before anything is sent.
await client.chat('And this?', { images: Buffer.from('not a picture') }).catch((error) => {
  if (error instanceof ImageInputError) console.log(`refused: ${error.code}`);
  else throw error;
});
await client.close();
