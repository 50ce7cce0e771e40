// Preloaded (`node --import`) into a bin under test: appends the URL of every module the ESM loader
// resolves to the file named by MESH_LOAD_RECORD, one per line. The hooks run in the loader's own
// thread and write synchronously, so a URL is recorded before its module loads, whenever the
// process exits. The bins are CommonJS programs, whose require() calls the hooks do not see: at
// exit, the builtins the process loaded (`node:<name>`) and the files in require's cache are
// appended too.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.MESH_LOAD_RECORD;
register(new URL('./load-recorder-hooks.mjs', import.meta.url), { data: { file } });

const publicBuiltin = /^NativeModule ((?!internal\/)[\w/]+)$/;
process.on('exit', () => {
  const builtins = process.moduleLoadList.flatMap((entry) => {
    const match = publicBuiltin.exec(entry);
    return match ? [`node:${match[1]}`] : [];
  });
  const files = Object.keys(Module._cache).map((path) => pathToFileURL(path).href);
  appendFileSync(file, `${[...builtins, ...files].join('\n')}\n`);
});
