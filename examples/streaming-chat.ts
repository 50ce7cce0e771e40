// Streaming chat: print the reply as it arrives; the iterator's return value carries the usage.
import { MeshClient } from 'mesh-sdk';

const client = new MeshClient();
const stream = client.chatStream('Tell me a story about a lighthouse');
for (;;) {
  const next = await stream.next();
  if (next.done) {
    console.log(`\n(${next.value.usage?.totalTokens ?? '?'} tokens)`);
    break;
  }
  process.stdout.write(next.value);
}
