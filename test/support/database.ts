import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/connect.ts';

/**
 * A connection to the run's (already migrated) test database — or to the isolated one, for the
 * test file that publishes rule sets. Close it in afterAll.
 */
export function testDatabase(which: 'shared' | 'isolated' = 'shared'): DatabaseHandle {
  const url = which === 'shared' ? inject('databaseUrl') : inject('isolatedDatabaseUrl');
  return openDatabase(url, { embedded: inject('databaseEmbedded') });
}

/** A fresh 20-character client/company id, so test files never collide on shared tables. */
export function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = '';
  for (let i = 0; i < 20; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
}
