import { Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, expect, inject, test } from 'vitest';
import { migrationNames } from '../db/migrate.ts';
import { testDatabase } from './support/database.ts';

const handle = testDatabase();
afterAll(() => handle.close());

test('the test database is migrated and has an active rule set', async () => {
  // kysely_migration is Kysely's own bookkeeping table, not part of our schema types.
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db);
  expect(rows.map((r) => r.name)).toEqual(migrationNames);
  const active = await handle.db.selectFrom('rule_sets').select('version').where('active', '=', true).execute();
  expect(active).toHaveLength(1);
});

test('the Temporal server answers with all search attributes registered', async () => {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const res = await connection.operatorService.listSearchAttributes({ namespace: inject('temporalNamespace') });
  expect(Object.keys(res.customAttributes)).toContain('ConnectionStatus');
  await connection.close();
});
