import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/connect.ts';

/** A connection to the run's (already migrated) test database. Close it in afterAll. */
export function testDatabase(): DatabaseHandle {
  return openDatabase(inject('databaseUrl'), { embedded: inject('databaseEmbedded') });
}

/** A fresh 20-character client/company id, so test files never collide on shared tables. */
export function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = '';
  for (let i = 0; i < 20; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
}
