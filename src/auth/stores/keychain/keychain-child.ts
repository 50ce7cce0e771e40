/**
 * The source of the keychain helper process. Native keychain calls can hang inside D-Bus for
 * minutes (a bus that accepts connections and never answers), and no timer interrupts a native
 * call on the main thread: so they run in this child, which the parent kills when it overstays.
 * Kept as a string so the same code runs from src/ (tests) and dist/ (published), CJS or ESM.
 */
export const KEYCHAIN_CHILD_SOURCE = `
'use strict';
const lib = require(process.env.MESH_KEYRING_MODULE);
const kind = process.env.MESH_KEYRING_KIND;
const service = process.env.MESH_KEYRING_SERVICE;
// On Linux pin the Secret Service: the default silently falls back to the kernel keyring, which
// forgets everything at reboot.
const options = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
const entries = new Map();
async function run(op, account, value) {
  if (kind === 'keytar') {
    if (op === 'get') return lib.getPassword(service, account);
    if (op === 'set') return lib.setPassword(service, account, value);
    return lib.deletePassword(service, account);
  }
  // An Entry holds its D-Bus connection: creating one costs 10-20 ms, reusing it about 1 ms.
  let entry = entries.get(account);
  if (!entry) {
    entry = new lib.Entry(service, account, options);
    entries.set(account, entry);
  }
  if (op === 'get') return entry.getPassword();
  if (op === 'set') return entry.setPassword(value);
  return entry.deletePassword();
}
process.on('message', async (request) => {
  try {
    const result = await run(request.op, request.account, request.value);
    process.send({ id: request.id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    process.send({ id: request.id, ok: false, message: String((error && error.message) || error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;
