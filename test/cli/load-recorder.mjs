// Preloaded (`node --import`) into a bin under test: appends the URL of every module the ESM loader
// resolves to the file named by MESH_LOAD_RECORD, one per line. The hooks run in the loader's own
// thread and write synchronously, so a URL is recorded before its module loads, whenever the
// process exits.
import { register } from 'node:module';

register(new URL('./load-recorder-hooks.mjs', import.meta.url), { data: { file: process.env.MESH_LOAD_RECORD } });
