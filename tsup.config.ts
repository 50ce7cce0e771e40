import { defineConfig } from 'tsup';

// dist/ is emptied by the build script (`rm -rf dist && tsup`): two configs building at once must not clean each other.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    // import.meta.url in the CommonJS build (the keychain store resolves its native binding with it).
    shims: true,
  },
  {
    // The bins: ESM only (they run as programs, never imported); the shebang comes from the source.
    entry: { 'cli/mesh-auth': 'src/cli/mesh-auth.ts', 'cli/mesh-env': 'src/cli/mesh-env.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    splitting: false,
    sourcemap: true,
  },
]);
