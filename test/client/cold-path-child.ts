/**
 * What one fresh process loads on the way to its first call: registers a resolve hook that reports
 * every ESM module resolved, then imports the SDK, builds a MeshClient on a file store holding a
 * valid token (MESH_* from the parent), makes one call (argv[2]: `listKeys` or `chat`), and prints
 * one JSON line per phase: `{ phase, packages }` (package names, from node_modules paths, ESM and
 * CommonJS alike). Last, a browser login over plain HTTP (argv[3] = its callback port) proves that
 * the recorder sees what a login loads. Static imports are node: built-ins only, so that nothing
 * is loaded before the hook is in place.
 */
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

const seen = new Set<string>();
const { port1, port2 } = new MessageChannel();
let sentinel: (() => void) | undefined;
port1.on('message', (url: string) => {
  if (url.startsWith('data:text/javascript,/*sentinel')) sentinel?.();
  else seen.add(url);
});
port1.unref();
register('./cold-path-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
const cjsCache = createRequire(import.meta.url).cache;

/** `zod`, `@napi-rs/keyring`: the package a file belongs to (its last node_modules segment). */
function packageOf(path: string): string | undefined {
  const at = path.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = path.slice(at + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

let round = 0;
/** Prints the packages loaded so far, once every hook message before this point has arrived. */
async function phase(name: string): Promise<void> {
  // Messages from the hook thread arrive in order: once a resolve made now is reported, every earlier one is.
  const arrived = new Promise<void>((resolve) => {
    sentinel = resolve;
  });
  port1.ref(); // an unreferenced port would let the process end while the message is on its way
  await import(`data:text/javascript,/*sentinel ${++round}*/`);
  await arrived;
  port1.unref();
  const paths = [...seen].filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
  paths.push(...Object.keys(cjsCache));
  const packages = [...new Set(paths.map(packageOf).filter((name): name is string => name !== undefined))].sort();
  process.stdout.write(`${JSON.stringify({ phase: name, packages })}\n`);
}

const call = process.argv[2] ?? 'listKeys';
const callbackPort = Number(process.argv[3]);

const { MeshClient } = await import('../../src/index.js');
await phase('import');
const client = new MeshClient();
await phase('construct');
if (call === 'chat') await client.chat('Hello');
else await client.listKeys();
await phase('first-call');

// The recorder's proof: a login loads openid-client (the driver itself does not).
const { loginOverHttp } = await import('../../dev/login-driver.js');
await phase('driver');
const redirectUri = `http://localhost:${callbackPort}/callback`;
const login = new MeshClient({
  headless: false,
  interactive: false,
  callbackPort,
  loginUi: {
    onAuthUrl: () => {},
    onHeadlessTokens: () => {},
    openBrowser: async (url) => {
      void loginOverHttp(url, redirectUri).then((callback) => fetch(callback));
    },
  },
});
await login.login();
await phase('login');
await client.close();
await login.close();
