// API-key auth for servers and CI: MESH_API_KEY (a key from `npx mesh-env --api-key NAME`), no login at all.
import { MeshClient } from 'mesh-sdk';

if (!process.env.MESH_API_KEY) throw new Error('Set MESH_API_KEY to a Mesh API key (mesh_...).');
const client = new MeshClient(); // picks up MESH_API_KEY
console.log((await client.chat('What is 2 + 2?')).content);
console.log('keys:', await client.listKeys());
