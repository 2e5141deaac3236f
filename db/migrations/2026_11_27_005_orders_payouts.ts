// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Orders and the payout list (docs/architecture.md "Purchases and the payout list"). Postgres is
 * the authority: an order is unique per (seller, order id) and keeps the hash of the request that
 * made it; a payout row is unique per (seller, order id, offer, type, movement id) — the movement
 * being the order itself, a recurring payment, a refund or a chargeback — so every money movement
 * lands exactly once. Indexes serve a party's keyset pages (newest first, optionally by paid
 * status) and a pair's settlement sums.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('seller_client_id', 'varchar(20)', (c) => c.notNull().references('clients.id'))
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('cart_id', 'uuid', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('payment_method', 'text', (c) => c.notNull())
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('subscription_id', 'text')
    .addColumn('invoice_id', 'text')
    .addColumn('items', 'jsonb', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('orders_seller_order_key', ['seller_client_id', 'order_id'])
    .execute();

  await db.schema
    .createTable('payout_rows')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('PAYMENT', 'REFUND', 'LOSS')`))
    .addColumn('paid_status', 'text', (c) => c.notNull().defaultTo('OPEN').check(sql`paid_status in ('OPEN', 'PAID')`))
    .addColumn('source_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('connected_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('connection_id', 'uuid', (c) => c.notNull())
    .addColumn('order_ref', 'uuid', (c) => c.notNull().references('orders.id'))
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('movement_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('reverses_row_id', 'uuid', (c) => c.references('payout_rows.id'))
    .addColumn('subscription_id', 'text')
    .addColumn('invoice_id', 'text')
    .addColumn('offer_id', 'uuid', (c) => c.notNull())
    .addColumn('cost_center', 'text', (c) => c.notNull())
    .addColumn('payment_method', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull().check(sql`amount_minor >= 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('share_basis_points', 'integer', (c) => c.notNull().check(sql`share_basis_points between 0 and 10000`))
    .addColumn('share_minor', 'bigint', (c) => c.notNull())
    .addColumn('rule_set_version', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('changed_by', 'text')
    .addUniqueConstraint('payout_rows_movement_key', ['connected_client_id', 'order_id', 'offer_id', 'type', 'movement_id'])
    .execute();
  for (const party of ['source_client_id', 'connected_client_id']) {
    await sql`create index ${sql.id(`payout_rows_${party}_page_idx`)} on payout_rows (${sql.id(party)}, created_at desc, id desc)`.execute(db);
    await sql`create index ${sql.id(`payout_rows_${party}_status_idx`)} on payout_rows (${sql.id(party)}, paid_status, created_at desc, id desc)`.execute(db);
  }
  await sql`create index payout_rows_pair_idx on payout_rows (source_client_id, connected_client_id, currency, type, paid_status, created_at)`.execute(db);
  await sql`create index payout_rows_reverses_idx on payout_rows (reverses_row_id) where reverses_row_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payout_rows').execute();
  await db.schema.dropTable('orders').execute();
}
