// Keys: store a provider key, list the names, read it back; a missing key is NotFoundError.
// The deployed backend has no delete: deleteKey fails with code unsupported_by_backend, sending nothing.
import { ErrorCode, MeshClient, NotFoundError } from 'mesh-sdk';

const client = new MeshClient();
await client.storeKey('example_openai_key', 'sk-example-123');
console.log('keys:', await client.listKeys());
console.log('value:', await client.getKey('example_openai_key'));
try {
  await client.getKey('example_missing_key');
} catch (error) {
  if (error instanceof NotFoundError) console.log('missing: getKey says not_found');
  else throw error;
}
await client.deleteKey('example_openai_key').catch((error: { code?: string }) => {
  if (error.code === ErrorCode.UNSUPPORTED_BY_BACKEND) console.log('deleteKey: unsupported_by_backend');
  else throw error;
});
