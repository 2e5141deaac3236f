import { defineConfig } from 'vitest/config';

// Without DATABASE_URL the tests run on embedded PGlite, which is single-user: files run one at a
// time and the files that need real PostgreSQL — concurrency, or a second process on the same
// database (*.concurrency.test.ts) — are left out, loudly.
const embedded = !process.env.DATABASE_URL;
if (embedded) {
  console.warn(
    '\n[ccx] DATABASE_URL is not set: running on embedded PGlite, WITHOUT the *.concurrency.test.ts files.\n' +
      '[ccx] Set DATABASE_URL to a fresh PostgreSQL database to run everything (bash .ci/run does).\n',
  );
}

export default defineConfig({
  test: {
    pool: 'forks', // threads segfault with the Temporal native bridge
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // test/browser/ needs Chromium: `npm run test:browser` (vitest.browser.config.ts).
    exclude: ['node_modules/**', 'test/browser/**', ...(embedded ? ['test/**/*.concurrency.test.ts'] : [])],
    fileParallelism: !embedded,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
