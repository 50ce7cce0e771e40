// Basic chat: one question, one answer, with the model and token usage. Run after `npx mesh-auth`.
import { MeshClient } from 'mesh-sdk';

const client = new MeshClient();
const reply = await client.chat('What is 5 + 7?');
console.log(reply.content);
console.log(
  `model ${reply.model} (${reply.provider}), ${reply.usage?.totalTokens ?? '?'} tokens${reply.requestId ? `, request ${reply.requestId}` : ''}`,
);
