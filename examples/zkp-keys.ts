// ZKP key storage: the backend keeps a commitment to a value, never the value; verifyKey says
// whether a value is the stored one. The commitment is an unsalted hash of the name and value, so
// it suits high-entropy secrets only (docs/client.md, "ZKP key storage").
import { randomBytes } from 'node:crypto';
import { MeshClient, NotFoundError } from 'mesh-sdk';

const client = new MeshClient();
const secret = randomBytes(32).toString('hex'); // high entropy: a commitment to it cannot be guessed back
const { commitment, storagePath } = await client.storeKeyZkp('example_signing_key', secret);
console.log(`stored: commitment ${commitment.slice(0, 12)}... as ${storagePath}`); // <userId>_<name>
console.log('the stored value verifies:', await client.verifyKey('example_signing_key', secret));
console.log('another value verifies:', await client.verifyKey('example_signing_key', 'not-the-secret'));
try {
  await client.verifyKey('example_never_stored', secret);
} catch (error) {
  if (error instanceof NotFoundError) console.log('never stored: verifyKey says not_found');
  else throw error;
}
