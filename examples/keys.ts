// Keys: store a provider key, list the names, read it back, delete it; a missing key is NotFoundError.
import { MeshClient, NotFoundError } from 'mesh-sdk';

const client = new MeshClient();
await client.storeKey('example_openai_key', 'sk-example-123');
console.log('keys:', await client.listKeys());
console.log('value:', await client.getKey('example_openai_key'));
await client.deleteKey('example_openai_key');
try {
  await client.getKey('example_openai_key');
} catch (error) {
  if (error instanceof NotFoundError) console.log('deleted: getKey now says not_found');
  else throw error;
}
