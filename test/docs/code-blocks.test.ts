// Every TypeScript block in README.md, examples/README.md and docs/ compiles against the built
// package's types (with the placeholders of docs/snippets-prelude.d.ts), and every block marked
// `<!-- runnable -->` runs against the local stack and exits by itself, as a user's script would.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';
import { type Block, blocks, pages, ROOT } from './markdown.js';

const run = promisify(execFile);
const stack = useStack();
const TYPESCRIPT = new Set(['ts', 'typescript']);
const snippets = pages()
  .flatMap(blocks)
  .filter((block) => TYPESCRIPT.has(block.lang));

/** A file name that says where the block is: `docs__client.md__L12.ts`. */
const fileFor = (block: Block) => `${block.page.replaceAll('/', '__')}__L${block.line}.ts`;

let project: string;
beforeAll(async () => {
  // A consumer's project: `mesh-sdk` resolves to this repository's package.json `exports`, so to dist/.
  project = await scratchDir('mesh-doc-snippets-');
  await mkdir(join(project, 'node_modules'));
  await symlink(ROOT, join(project, 'node_modules', 'mesh-sdk'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'doc-snippets', private: true, type: 'module' }));
  await copyFile(join(ROOT, 'docs', 'snippets-prelude.d.ts'), join(project, 'snippets-prelude.d.ts'));
  for (const block of snippets) {
    // `export {}` makes each block a module of its own (top-level await, no shared names).
    await writeFile(join(project, fileFor(block)), `${block.code}\nexport {};\n`);
  }
});

describe('the TypeScript in the docs', () => {
  it('has blocks to check, the README first example among the runnable ones', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    expect(snippets.filter((block) => block.runnable).map((block) => block.page)).toEqual(
      expect.arrayContaining(['README.md', 'docs/getting-started.md']),
    );
  });

  it('every block compiles against the built types (strict)', async () => {
    const tsconfig = {
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['snippets-prelude.d.ts', ...snippets.map(fileFor)],
    };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const report = await run(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    // The file names carry the page and the fence's line: `docs__client.md__L12.ts(3,5): error ...`.
    expect(report, 'tsc on the docs snippets').toBe('');
  });

  it.each(snippets.filter((block) => block.runnable).map((block) => [`${block.page}:${block.line}`, block] as const))(
    '%s runs against the local stack and exits by itself',
    async (_where, block) => {
      const home = await scratchDir('mesh-doc-home-');
      const tokenDir = join(home, '.mesh');
      await new FileStore({ directory: tokenDir }).save(await storedTokens(stack, 'docs@example.test'));
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(project, fileFor(block))],
        {
          cwd: project,
          env: { PATH: process.env.PATH, HOME: home, ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: tokenDir },
          timeout: 30_000,
        },
      );
      expect(stderr).toBe('');
      expect(stdout.length).toBeGreaterThan(0);
    },
  );
});
