// Warm calls (Node.js, Bun, Deno): `warm.mjs <calls> <warmup>` prints one JSON line
// `{ calls, c1, c16 }` (elapsed ms of each loop; see calls.mjs).
import { warmCalls } from './calls.mjs';

const [calls, warmup] = process.argv.slice(2).map(Number);
console.log(JSON.stringify(await warmCalls(process.env, calls, warmup)));
