import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

// No source maps in the package, on purpose: the build is not minified, so a stack trace already
// names a readable function and line of dist/ (a map would only turn dist/ lines into src/ lines),
// and the maps weighed 2.7 MB of the 4.0 MB unpacked (issue 20 item 11). test/package prints the
// tarball's size and fails on a .map file in it.
const common = {
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  treeshake: true,
  // import.meta.url in the CommonJS build (the keychain store resolves its native binding with it).
  shims: true,
  // An optional dependency (tsup leaves only dependencies and peers out of the bundle): imported
  // at run time by the first image that needs scaling, never bundled.
  external: ['sharp'],
} satisfies Options;

/**
 * The Worker build resolves the packages a Worker cannot load to src/edge/ (typed errors in their
 * place), so that dist/worker.js names none of them and a Worker's bundler never pulls them in:
 * undici (the transport there is fetch), and open, redis and sharp (loaded on first need only).
 */
const edgePackages = {
  name: 'edge-packages',
  setup(build: { onResolve: (options: { filter: RegExp }, callback: (args: { path: string }) => { path: string }) => void }) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: resolve('src/edge/undici.ts') }));
    build.onResolve({ filter: /^(open|redis|sharp)$/ }, () => ({ path: resolve('src/edge/unavailable-module.ts') }));
  },
};

// dist/ is emptied by the build script (`rm -rf dist && tsup`): two configs building at once must not clean each other.
export default defineConfig([
  {
    // The library and the bins in one ESM build with splitting: the bins import the library's code
    // from shared chunks (dist/chunk-*.js) instead of each bundling all of it again. The shebang
    // comes from the bins' sources, so only dist/cli/*.js carry one (and are made executable).
    ...common,
    entry: { index: 'src/index.ts', 'cli/mesh-auth': 'src/cli/mesh-auth.ts', 'cli/mesh-env': 'src/cli/mesh-env.ts' },
    format: ['esm'],
    splitting: true,
    // Declarations for the library only: the bins are run, never imported.
    dts: { entry: { index: 'src/index.ts' } },
  },
  {
    // The CommonJS build of the library (dist/index.cjs, dist/index.d.cts): one file, no chunks.
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    splitting: false,
    dts: true,
  },
  {
    // mesh-sdk/server (dist/server.js, dist/server.cjs and their declarations): a build of its own,
    // one file per format, so that the client's chunks stay exactly as without it (the client's
    // cold import does not grow, and never shares a chunk with the server).
    ...common,
    entry: { server: 'src/server/index.ts' },
    format: ['esm', 'cjs'],
    splitting: false,
    dts: true,
  },
  {
    // mesh-sdk in edge Workers (dist/worker.js and its declarations), chosen by the `workerd`,
    // `worker` and `browser` export conditions: src/worker.ts, with fetch as the transport and the
    // packages a Worker cannot load resolved to src/edge/. ESM only, as Workers load modules.
    ...common,
    entry: { worker: 'src/worker.ts' },
    format: ['esm'],
    splitting: false,
    target: 'es2022',
    // Workers take the node: prefix (with the nodejs_compat flag); tsup would drop it.
    removeNodeProtocol: false,
    external: [],
    noExternal: ['undici', 'open', 'redis', 'sharp'],
    esbuildPlugins: [edgePackages],
    dts: true,
  },
]);
