// scripts/import-graph.mjs on the real tree (no import circle, no upward import between the layers
// of src/, no circle in dev/) and on a small planted tree, so the check is shown able to fail.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/import-graph.mjs');

interface Upward {
  from: string;
  to: string;
  fromLayer: string;
  toLayer: string;
  names: string[];
}
interface Report {
  graph: Record<string, { to: string; names: string[] }[]>;
  layers: { name: string; files: string[]; imports: string[] }[];
  circles: { files: string[]; path: string[] }[];
  upward: Upward[];
  unresolved: unknown[];
  unlayered: string[];
  ok: boolean;
}

function graph(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [SCRIPT, ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      done({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

async function report(...args: string[]): Promise<{ code: number; json: Report }> {
  const { code, stdout } = await graph('--json', ...args);
  return { code, json: JSON.parse(stdout) as Report };
}

describe('the real tree', () => {
  it('src/ has no import circle and no import from a lower layer to a higher one', async () => {
    const { code, json } = await report();
    expect(json.circles).toEqual([]);
    expect(json.upward).toEqual([]);
    expect(json.unlayered).toEqual([]);
    expect(json.unresolved).toEqual([]);
    expect(code).toBe(0);
    // It read the real tree: the ground floor's files and an edge everyone knows are there.
    expect(Object.keys(json.graph).length).toBeGreaterThan(50);
    expect(json.graph['config/resolve.ts']?.map((edge) => edge.to)).toContain('errors/mesh-error.ts');
    expect(json.layers.map((layer) => layer.name)).toEqual([
      'version.ts',
      'internal',
      'errors',
      'config',
      'http',
      'auth',
      'flow',
      'client',
      'diagnostics',
      'cli',
      'server',
      'edge',
      'index.ts',
      'worker.ts',
      'api.ts',
    ]);
    // src/edge/ stands in for packages in the Worker build only (tsup.config.ts): no source file imports it.
    const intoEdge = Object.values(json.graph).filter((edges) => edges.some((edge) => edge.to.startsWith('edge/')));
    expect(intoEdge).toEqual([]);
    // The Worker entry never reaches undici's transport by a static import.
    expect(json.graph['worker.ts']?.map((edge) => edge.to)).not.toContain('http/undici-transport.ts');
    // mesh-sdk/server is its own entry: no file outside it imports it (index.ts, above all, may not).
    const intoServer = Object.entries(json.graph).filter(
      ([file, edges]) => !file.startsWith('server/') && edges.some((edge) => edge.to.startsWith('server/')),
    );
    expect(intoServer).toEqual([]);
    expect(Object.keys(json.graph).filter((file) => file.startsWith('server/')).length).toBeGreaterThan(5);
  });

  it('prints the graph folder by folder, then no findings', async () => {
    const { code, stdout } = await graph();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^config \(\d+ files\) imports: internal, errors$/m);
    expect(stdout).toMatch(/^Circles: none$/m);
    expect(stdout).toMatch(/^Upward imports: none$/m);
  });

  it('dev/ has no import circle', async () => {
    const { code, json } = await report('--dir', 'dev');
    expect(json.circles).toEqual([]);
    expect(code).toBe(0);
  });
});

describe('a planted tree', () => {
  let root: string;
  const plant = async (files: Record<string, string>) => {
    await rm(join(root, 'src'), { recursive: true, force: true });
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, 'src', path)), { recursive: true });
      await writeFile(join(root, 'src', path), text);
    }
  };
  // Allowed: own folder (sub-folders count as their top folder), lower layers, version.ts from
  // anywhere, index.ts importing anything, a package import.
  const clean = {
    'version.ts': "export const SDK_VERSION = '0';\n",
    'index.ts': "export { Store } from './auth/stores/store.js';\nexport { run } from './cli/run.js';\n",
    'internal/redact.ts': "import { SDK_VERSION } from '../version.js';\nexport const redact = (s: string) => s + SDK_VERSION;\n",
    'errors/mesh-error.ts':
      "import { redact } from '../internal/redact.js';\nexport class MeshError extends Error {}\nredact('');\n",
    'config/options.ts':
      "import type { MeshError } from '../errors/mesh-error.js';\nexport interface Options { e?: MeshError }\n",
    'auth/token-store.ts': 'export interface TokenStore { load(): Promise<unknown> }\n',
    'auth/stores/store.ts':
      "import { z } from 'zod';\nimport type { TokenStore } from '../token-store.js';\nimport type { Options } from '../../config/options.js';\nexport class Store implements TokenStore { o?: Options; async load() { return z; } }\n",
    'cli/run.ts': "export async function run() { return (await import('../auth/stores/store.js')).Store; }\n",
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mesh-import-graph-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('passes a tree that keeps the rules', async () => {
    await plant(clean);
    const { code, json } = await report('--root', root);
    expect({ circles: json.circles, upward: json.upward, unresolved: json.unresolved }).toEqual({
      circles: [],
      upward: [],
      unresolved: [],
    });
    expect(code).toBe(0);
    expect(json.graph['auth/stores/store.ts']?.map((edge) => edge.to).sort()).toEqual([
      'auth/token-store.ts',
      'config/options.ts',
    ]);
  });

  it('fails on a planted circle and a planted upward import, naming both', async () => {
    await plant({
      ...clean,
      // Upward, type-only: config (ground floor) naming a type of auth.
      'config/options.ts':
        "import type { MeshError } from '../errors/mesh-error.js';\nimport type { TokenStore } from '../auth/token-store.js';\nexport interface Options { e?: MeshError; s?: TokenStore }\n",
      // A circle of two files in one folder, one edge a re-export, and an upward dynamic import.
      'http/a.ts': "export { b } from './b.js';\nexport const a = 1;\n",
      'http/b.ts': "import { a } from './a.js';\nexport const b = a;\nexport const later = () => import('../cli/run.js');\n",
    });
    const { code, json } = await report('--root', root);
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    expect(json.circles).toEqual([{ files: ['http/a.ts', 'http/b.ts'], path: ['http/a.ts', 'http/b.ts', 'http/a.ts'] }]);
    expect(json.upward).toEqual([
      { from: 'config/options.ts', to: 'auth/token-store.ts', fromLayer: 'config', toLayer: 'auth', names: ['type TokenStore'] },
      { from: 'http/b.ts', to: 'cli/run.ts', fromLayer: 'http', toLayer: 'cli', names: ['import()'] },
    ]);

    const { code: textCode, stdout } = await graph('--root', root);
    expect(textCode).toBe(1);
    expect(stdout).toContain('Circles: 1\n  2 files: http/a.ts -> http/b.ts -> http/a.ts');
    expect(stdout).toContain('config/options.ts -> auth/token-store.ts (config < auth): type TokenStore');
  });

  it('fails on a file outside every layer, and on a relative import it cannot resolve', async () => {
    await plant({
      ...clean,
      'plugins/extra.ts': 'export const extra = 1;\n',
      'auth/token-store.ts':
        "import { gone } from './gone.js';\nexport interface TokenStore { load(): Promise<unknown> }\ngone();\n",
    });
    const { code, json } = await report('--root', root);
    expect(code).toBe(1);
    expect(json.unlayered).toEqual(['plugins/extra.ts']);
    expect(json.unresolved).toEqual([{ from: 'auth/token-store.ts', specifier: './gone.js' }]);
  });
});
