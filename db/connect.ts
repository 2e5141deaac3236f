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
  // A client losing its connection (the server stopped) must not crash the process: an idle one's
  // error reaches the pool, a checked-out one's reaches the client itself — without a listener
  // Node throws it. The query in flight rejects anyway, and the pool replaces the client.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, url, close: () => db.destroy() };
}
