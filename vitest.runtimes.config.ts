// `npm run test:runtimes`: the same user scripts under Node.js, Bun, Deno and workerd, against the
// local stack (test/runtimes). Apart from the main suite because each file packs and installs
// the package and starts other runtimes: `npm test` runs it once after the main suite, and the
// CI's other passes (part B, Node 22, the Node 24 canary) leave it out.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/runtimes/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Removes each test file's scratch directories when it ends (test/helpers/scratch.ts).
    setupFiles: ['test/helpers/remove-scratch.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
