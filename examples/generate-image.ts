// Generating an image and editing it, saved to files. Run after `npx mesh-auth`; the files go to
// EXAMPLE_OUTPUT_DIR (default: the current folder). Each generation costs credits.
import { join } from 'node:path';
import { generateImage, MeshClient } from 'mesh-sdk';

const folder = process.env.EXAMPLE_OUTPUT_DIR ?? '.';

// The top-level helper: openai's dall-e-3 unless you name a provider or model. A URL reply is
// downloaded for saveTo without any Mesh credential.
const [image] = await generateImage('A lighthouse at dawn', { size: '1024x1024', saveTo: join(folder, 'lighthouse.png') });
console.log(`saved ${image?.path} (${image?.mediaType})`);

// An edit: the image goes to /api/v1/images/vision with the prompt, as it is (no scaling).
const client = new MeshClient();
const edits = await client.generateImage('The same lighthouse at night', {
  image: image?.path,
  responseFormat: 'b64_json',
  saveTo: join(folder, 'night.png'),
});
for (const edit of edits) console.log(`edited: ${edit.path} (${edit.b64Json?.length} base64 characters)`);
await client.close();
