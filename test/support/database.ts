import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/connect.ts';

/** `previews`: the preview tests' own (issue 15; test/global-setup.ts). */
export type TestDatabase = 'shared' | 'isolated' | 'previews';

/**
 * A connection to the run's (already migrated) test database — or to the isolated one, for the
 * test file that publishes rule sets. Close it in afterAll.
 */
export function testDatabase(which: TestDatabase = 'shared'): DatabaseHandle {
  const url = which === 'shared' ? inject('databaseUrl') : which === 'isolated' ? inject('isolatedDatabaseUrl') : inject('previewsDatabaseUrl');
  return openDatabase(url, { embedded: inject('databaseEmbedded') });
}

/** A fresh 20-character client/company id, so test files never collide on shared tables. */
export function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = '';
  for (let i = 0; i < 20; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
}
