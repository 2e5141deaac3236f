/**
 * Replays recorded histories (test/histories/*.json, made by scripts/record-histories.ts) against
 * the current workflow code. A failure means a change would break workflows already running in
 * production: guard it with patched() instead of re-recording.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { expect, inject, test } from 'vitest';

const dir = new URL('./histories/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('there are histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

test.each(files)('%s replays without nondeterminism', async (file) => {
  const history = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, history, file),
  ).resolves.toBeUndefined();
});
