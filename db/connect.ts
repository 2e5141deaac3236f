import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

// Return BIGINT/NUMERIC as JS numbers only where safe is not our call: keep them as strings (pg's
// default). Timestamps come back as Date.

export interface DatabaseHandle {
  db: Kysely<Database>;
  url: string;
  close(): Promise<void>;
}

/**
 * `embedded`: the URL points at PGlite behind pglite-socket, which serves one query stream at a
 * time; a pool of 1 keeps transactions from interleaving.
 */
export function openDatabase(url: string, options: { embedded?: boolean; max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.embedded ? 1 : (options.max ?? 10),
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, url, close: () => db.destroy() };
}
