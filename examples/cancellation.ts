// Cancellation: an AbortSignal stops a request or a stream at once (AbortError), and a per-call
// timeout bounds a slow one (TimeoutError).
import { AbortError, MeshClient } from 'mesh-sdk';

const client = new MeshClient();
const controller = new AbortController();
let received = '';
try {
  for await (const delta of client.chatStream('Count slowly from one to twenty', { signal: controller.signal })) {
    received += delta;
    if (received.length > 10) controller.abort(); // e.g. the user pressed Stop
  }
} catch (error) {
  if (error instanceof AbortError) console.log(`aborted after ${received.length} characters: ${JSON.stringify(received)}`);
  else throw error;
}
const quick = await client.listKeys({ timeout: 5000, signal: AbortSignal.timeout(10_000) });
console.log('a bounded call still works:', quick);
