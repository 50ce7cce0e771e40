// Builds dist/ once before the suite: the package test packs it, the CLI tests run its bins, the
// examples import 'mesh-sdk' (resolved through package.json `exports` to dist/). A run limited to
// files that use none of that skips the build: it costs a core for a while, and deleting dist/
// under a CLI test that is running in another terminal breaks that test.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { TestProject } from 'vitest/node';
import { releaseEndedClaims } from '../dev/ports.js';

const USES_DIST = ['test/package/', 'test/cli/', 'test/examples/', 'test/docs/', 'test/runtimes/'];

/** The file filters given on the command line; undefined for a whole-suite run. */
function fileFilters(project: TestProject): string[] | undefined {
  // Not public API: if vitest ever drops the field we see undefined and build, which is always safe.
  return (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
}

export default async function setup(project: TestProject): Promise<() => void> {
  await build(project);
  // The workers are killed at the end, so their port claims outlive them: removed here.
  return releaseEndedClaims;
}

async function build(project: TestProject): Promise<void> {
  const root = resolve(import.meta.dirname, '..');
  // scripts/test.sh runs test/runtimes right after the main suite, which has just built dist/.
  if (process.env.MESH_DIST_FRESH === '1' && existsSync(join(root, 'dist', 'index.js'))) return;
  const filters = fileFilters(project);
  if (filters !== undefined) {
    const selected = await project.vitest.globTestSpecifications(filters);
    const usesDist = selected.some((spec) => {
      const file = relative(root, spec.moduleId).split(sep).join('/');
      return USES_DIST.some((folder) => file.startsWith(folder));
    });
    if (!usesDist) return;
  }
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')], { cwd: root, stdio: 'ignore' });
}
