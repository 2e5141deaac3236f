import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the /machines page in a real Chromium (Debian's, driven by
// playwright-core) against a real stack. Kept out of `npm test` (vitest.config.ts includes
// test/**/*.test.ts but excludes test/browser/); the same global setup starts Temporal and the database.
export default defineConfig({
  test: {
    pool: 'forks', // threads segfault with the Temporal native bridge
    globalSetup: ['test/global-setup.ts'],
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
