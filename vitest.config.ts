import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Other runtimes: `npm run test:runtimes` (vitest.runtimes.config.ts), which `npm test` runs too.
    exclude: ['test/runtimes/**', '**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    // Removes each test file's scratch directories when it ends (test/helpers/scratch.ts).
    setupFiles: ['test/helpers/remove-scratch.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests start real servers; two cores: keep files from starving each other.
    maxWorkers: 2,
  },
});
