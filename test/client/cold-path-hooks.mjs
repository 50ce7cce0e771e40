// Module hooks for cold-path-child.ts: posts the URL of every module the ESM loader resolves to
// the main thread (registered with `module.register`; runs in the loader's own thread).
let port;

export function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  port.postMessage(result.url);
  return result;
}
