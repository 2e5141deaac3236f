// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Later money movements on an order (issue 8): refunds, chargebacks and recurring payments. One row
 * per (order, type, movement id) keeps the hash of the request that made it, so a retry with the
 * same body answers the same movement and the same id with another body is a conflict — payout rows
 * alone cannot hold it (items of the seller's own offers give no row).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('order_movements')
    .addColumn('order_ref', 'uuid', (c) => c.notNull().references('orders.id'))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('PAYMENT', 'REFUND', 'LOSS')`))
    .addColumn('movement_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('order_movements_pkey', ['order_ref', 'type', 'movement_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('order_movements').execute();
}
