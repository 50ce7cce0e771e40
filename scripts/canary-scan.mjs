// Searches the output of a test run, and every file the run left in its temp directory, for the
// secrets the local stack recorded (dev/canaries.ts). Token stores are the one place secrets
// belong: token.json (its corrupt-* copies, and the temp copy of a write a process ended mid-way), the Python SDK's
// .mesh_token.json, .env files, the custom-store example's file, and
// the browser's own profile are not searched. Prints where a secret was found, never the secret.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [canaryFile, outputLog, tempRoot] = process.argv.slice(2);
const secrets = new Set(
  readFileSync(canaryFile, 'utf8')
    .split('\n')
    .filter((line) => line.length >= 16),
);
// A store's own atomic write goes through `<file>.<pid>.<hex>.tmp` (0600, beside it; a process ended mid-write
// leaves it, and the next load takes it up or removes it): storage too, not a leak.
const STORE_FILE =
  /^((token\.json|\.mesh_token\.json)(\.\d+\.[0-9a-f]+\.tmp)?|token\.json\.corrupt-.*|.*\.env|tokens\.json|my-mesh-tokens\.json)$/;
const SKIP_DIR = /^(node_modules|playwright.*|\.npm)$/;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIR.test(entry.name)) yield* files(path);
    } else if (entry.isFile() && !STORE_FILE.test(entry.name) && statSync(path).size < 20_000_000) {
      yield path;
    }
  }
}

const hits = [];
function scan(path) {
  const text = readFileSync(path, 'latin1');
  // Secrets are runs of token characters; look each run up (and its form without trailing dots).
  for (const match of text.matchAll(/[A-Za-z0-9._~-]{16,}/g)) {
    const candidate = match[0];
    const trimmed = candidate.replace(/\.+$/, '');
    if (secrets.has(candidate) || secrets.has(trimmed)) {
      hits.push(`${path} at offset ${match.index}: a secret of ${trimmed.length} characters starting "${trimmed.slice(0, 4)}"`);
    }
  }
}

scan(outputLog);
let scanned = 1;
for (const path of files(tempRoot)) {
  scan(path);
  scanned += 1;
}
console.log(`canary scan: ${secrets.size} secrets issued in the run, ${scanned} files searched, ${hits.length} leaks`);
for (const hit of hits.slice(0, 50)) console.log(`  leak: ${hit}`);
process.exit(hits.length === 0 && secrets.size > 0 ? 0 : 1);
