// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * The change feed (issue 12, GET /v1/events): one row per change and per client allowed to see it,
 * written in the transaction that changes the read model. `xid` is the writing transaction's id
 * (xid8: never wraps): the feed orders by (xid, id) and only shows rows of transactions older
 * than every transaction still running, so a row that commits late can never sort before a
 * position a reader has already passed (docs/decisions.md "Change feed").
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('xid', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_client_position_idx').on('events').columns(['client_id', 'xid', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('events').ifExists().execute();
}
