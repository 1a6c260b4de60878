import { defineConfig } from 'vitest/config';

/**
 * `npm run test:interop`: interoperability tests with other tools (tests/interop/): the PyTorch
 * export checked in real PyTorch (Debian's python3-torch). `npm test` needs none of it. CI runs
 * both (.ci/run installs python3-torch).
 */
export default defineConfig({
  test: {
    include: ['tests/interop/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
