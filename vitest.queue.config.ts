import { defineConfig } from 'vitest/config';

/**
 * `npm run test:queue`: the evaluation queue's tests (tests/with-redis/). They need Debian's
 * redis-server, which they start on a free port; `npm test` runs everything else, on nothing but
 * what npm installs. CI runs both.
 */
export default defineConfig({
  test: {
    include: ['tests/with-redis/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
