/**
 * `ccx payouts export` as a separate process writes the same CSV as `GET /v1/payouts.csv`. A second
 * process needs a database it can reach too: real PostgreSQL (embedded PGlite serves one process),
 * hence the `.concurrency` file, which runs in the PostgreSQL pass of `.ci/run`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { startTestStack, type HttpParty as Party, type TestStack } from '../support/stack.ts';
import { call } from '../api/support.ts';
import { payoutFixtures } from '../api/payouts.support.ts';

let stack: TestStack;
beforeAll(async () => void (stack = await startTestStack()));
afterAll(() => stack?.stop());
const { parties, row, at } = payoutFixtures(() => stack);

describe('CSV export from the command line', () => {
  const csvOf = async (p: Party, f: Record<string, string> = {}) => {
    const res = await call(stack.app, p.apiKey, 'GET', `/v1/payouts.csv${f && Object.keys(f).length ? `?${new URLSearchParams(f).toString()}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.body;
  };

  test('`ccx payouts export` writes the same CSV as the route', async () => {
    const [a, b, c] = await parties();
    await row(a!, b!, { createdAt: at(1), costCenter: '=HYPERLINK("x")' });
    await row(b!, a!, { createdAt: at(2), costCenter: 'a,b' });
    await row(a!, c!, { createdAt: at(3), type: 'LOSS' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ccx-payouts-')), 'payouts.csv');
    const run = promisify(execFile);
    await run(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', 'payouts', 'export', '--client', a!.id, '--out', file], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    });
    expect(readFileSync(file, 'utf8')).toBe(await csvOf(a!));
    const filtered = await run(process.execPath, ['--import', 'tsx', 'cli/ccx.ts', 'payouts', 'export', '--client', a!.id, '--connected-client-id', b!.id, '--to', at(2)], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    });
    expect(filtered.stdout).toBe(await csvOf(a!, { connectedClientId: b!.id, to: at(2) }));
    expect(filtered.stdout.split('\r\n')).toHaveLength(3);
  });
});
