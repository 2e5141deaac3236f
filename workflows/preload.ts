/**
 * Libraries the worker evaluates once per V8 context instead of once per workflow run (the
 * bundler's `preloadModules`, runtime/worker.ts). Imported here as the workflow code imports them,
 * so that the shared copies are the very modules the workflows use (the bundler's own
 * `require('zod')` would load zod's CommonJS build beside the ESM one, and save nothing).
 *
 * The SDK deep-freezes what is preloaded, the sandbox's globals included. zod settles its global
 * configuration (default locale, memoizer) on the first schema it builds: one is built here,
 * before the freeze, or every workflow's first schema would fail to write it.
 */
import { z } from 'zod';

z.strictObject({ settled: z.boolean() });

// Re-exported rather than imported bare: both packages declare themselves free of side effects,
// so the bundler would drop a bare import.
export * as zod from 'zod';
export * as cel from '@marcbachmann/cel-js';
