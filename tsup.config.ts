import { createRequire } from 'node:module';
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

/** An esbuild plugin, as tsup takes them. */
type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The Worker build resolves the packages a Worker cannot load to src/edge/ (typed errors in their
 * place), so that dist/worker.js names none of them and a Worker's bundler never pulls them in:
 * undici (the transport there is fetch), and open, redis and sharp (loaded on first need only).
 */
const edgePackages: EsbuildPlugin = {
  name: 'edge-packages',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: resolve('src/edge/undici.ts') }));
    build.onResolve({ filter: /^(open|redis|sharp)$/ }, () => ({ path: resolve('src/edge/unavailable-module.ts') }));
  },
};

/**
 * The bins' builtins that most commands never call, loaded on their first call instead of at start
 * (issue 22): node:crypto is about 5 ms of a 60 ms `node -e 0`, and `status` and `token` need it
 * only to refresh or save. `import { randomBytes } from 'node:crypto'` gets a module whose every
 * function loads the real one when called; a name that is not a function is a build error.
 */
const lazyBuiltins: EsbuildPlugin = {
  name: 'lazy-builtins',
  setup(build) {
    // The lazy module's own require() of the builtin is the real one.
    build.onResolve({ filter: /^node:(crypto|child_process)$/ }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const functions = Object.entries(createRequire(import.meta.url)(args.path) as Record<string, unknown>)
        .filter(([name, value]) => typeof value === 'function' && /^[a-z]\w*$/i.test(name))
        .map(([name]) => name);
      const lines = functions.map((name) => `export function ${name}(...args) { return load().${name}.apply(this, args); }`);
      return {
        contents: `let loaded;\nconst load = () => (loaded ??= require(${JSON.stringify(args.path)}));\n${lines.join('\n')}\n`,
        loader: 'js',
      };
    });
  },
};

/** The packages the bins import (dependencies and optional peers): never bundled, always required at run time. */
const PACKAGES: string[] = (() => {
  const manifest = createRequire(import.meta.url)('./package.json') as Record<string, Record<string, string> | undefined>;
  return [manifest.dependencies, manifest.optionalDependencies, manifest.peerDependencies].flatMap((list) =>
    Object.keys(list ?? {}),
  );
})();

/**
 * The bins' programs are CommonJS, so each package is loaded by require(), which on Node.js 20.19+
 * loads ES modules too (open, openid-client, jose). esbuild marks a require() made for an import in
 * our ES source "node mode": `default` is then the whole module, right for a CommonJS package and
 * wrong for an ES module, whose `default` is its own export (`open`'s function). Importing each
 * package through a small module of no package (this plugin's) drops that mark, so `default` is
 * the ES module's own default, or a CommonJS package's `module.exports`, as import() gives them.
 */
const packagesThroughRequire: EsbuildPlugin = {
  name: 'packages-through-require',
  setup(build) {
    build.onResolve({ filter: /^[@\w]/ }, (args) => {
      if (!PACKAGES.includes(args.path)) return undefined;
      return args.namespace === 'package' ? { path: args.path, external: true } : { path: args.path, namespace: 'package' };
    });
    build.onLoad({ filter: /.*/, namespace: 'package' }, (args) => {
      const name = JSON.stringify(args.path);
      return { contents: `export * from ${name};\nexport { default } from ${name};\n`, loader: 'js' };
    });
  },
};

// dist/ is emptied by the build script (`rm -rf dist && tsup`): two configs building at once must not clean each other.
export default defineConfig([
  {
    // The library's ESM build, with splitting: code the entry only needs later (the login, the
    // doctor, undici's transport) is in chunks loaded on first use.
    ...common,
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    splitting: true,
    dts: { entry: { index: 'src/index.ts' } },
  },
  {
    // The bins (issue 22: start-up). Each is a small launcher (dist/cli/mesh-auth.cjs) that starts its
    // program (dist/cli/mesh-auth-program.cjs: one CommonJS file holding the library code it needs)
    // through V8's code cache (src/cli/launch.ts). CommonJS, not the library's ESM chunks: a command
    // loads one file instead of about 20 modules through the ES module loader, and esbuild keeps each
    // command's code behind a function run on first use. Measured: `mesh-auth status` 2.46x of
    // `node -e 0` from the chunks, 2.00x as one CommonJS file, less with the cache (docs/performance.md).
    // The shebang comes from the launchers' sources, so only they carry one (and are made executable).
    ...common,
    entry: {
      'cli/mesh-auth': 'src/cli/bin/mesh-auth.ts',
      'cli/mesh-env': 'src/cli/bin/mesh-env.ts',
      'cli/mesh-auth-program': 'src/cli/mesh-auth.ts',
      'cli/mesh-env-program': 'src/cli/mesh-env.ts',
    },
    format: ['cjs'],
    splitting: false,
    // esbuild's own tree shaking, not tsup's rollup pass: rollup hoists every require() to the top
    // of the file, which would load undici, node:crypto and the rest at start again (198 ms).
    treeshake: false,
    // Keeps the node: prefix, and with it lets lazyBuiltins see those imports (tsup's own plugin would take them first).
    removeNodeProtocol: false,
    // tsup leaves the packages to packagesThroughRequire, which keeps them external.
    noExternal: PACKAGES,
    esbuildPlugins: [lazyBuiltins, packagesThroughRequire],
    // A third less to read and hash at every start (440 kB to 306 kB; `token` measured 1.54x of
    // `node -e 0` against 1.61x). Names are kept (no identifier minifying), so a stack trace still
    // names the function; the library's own files stay unminified.
    minifyWhitespace: true,
    minifySyntax: true,
    // import() of a package becomes require() (Node.js 20.19+ requires ES modules): code run from
    // V8's code cache on Node.js 20 has no import() (vm.Script loses its callback with cached data).
    esbuildOptions(options) {
      options.supported = { ...options.supported, 'dynamic-import': false };
    },
    dts: false,
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
