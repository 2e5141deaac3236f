import { Connection } from '@temporalio/client';
import { afterAll, expect, inject, test } from 'vitest';
import { testDatabase } from './support/database.ts';

const handle = testDatabase();
afterAll(() => handle.close());

test('the test database is migrated', async () => {
  const rows = await handle.db.selectFrom('contracting_companies').select('id').limit(1).execute();
  expect(Array.isArray(rows)).toBe(true);
});

test('the Temporal server answers with all search attributes registered', async () => {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const res = await connection.operatorService.listSearchAttributes({ namespace: inject('temporalNamespace') });
  expect(Object.keys(res.customAttributes)).toContain('ConnectionStatus');
  await connection.close();
});
