import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The queue's tests need redis-server: `npm run test:queue` (vitest.queue.config.ts); the
    // interoperability tests need python3-torch: `npm run test:interop` (vitest.interop.config.ts).
    exclude: ['tests/with-redis/**', 'tests/interop/**', '**/node_modules/**'],
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
