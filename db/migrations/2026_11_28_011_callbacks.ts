// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Callbacks to the source (issue 14, docs/callbacks.md).
 *
 * `connection_callbacks` holds a connection's callback URL and its encrypted secret. It is keyed by
 * the connection id the API mints, not by a foreign key: the API stores the secret *before* it
 * starts the connection workflow, so no invitation is ever recorded without its secret (the gap
 * docs/decisions.md listed under "Known limits"). The secret leaves `connections`; a connection
 * of that gap (URL, no secret) keeps its URL here with no secret and its deliveries wait, logged,
 * until the source sets one (`PUT /v1/connections/{id}/callback`).
 *
 * `callback_deliveries` is the outbox, written in the transaction that records the purchase,
 * refund, chargeback or renewal; `callback_attempts` the log of every attempt. `order_claims`
 * holds one claim code per (order, source).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('connection_callbacks')
    .addColumn('connection_id', 'uuid', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret_enc', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`insert into connection_callbacks (connection_id, url, secret_enc)
    select id, callback_url, callback_secret_enc from connections where callback_url is not null`.execute(db);
  await db.schema.alterTable('connections').dropColumn('callback_secret_enc').execute();

  await db.schema
    .createTable('order_claims')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('order_ref', 'uuid', (c) => c.notNull().references('orders.id'))
    .addColumn('source_client_id', 'text', (c) => c.notNull())
    // The source's own customer, once it has claimed the order; never the seller's.
    .addColumn('claimed_customer_id', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('order_claims_order_source_key', ['order_ref', 'source_client_id'])
    .execute();

  await db.schema
    .createTable('callback_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'uuid', (c) => c.notNull())
    .addColumn('order_ref', 'uuid', (c) => c.notNull().references('orders.id'))
    .addColumn('callback_type', 'text', (c) => c.notNull())
    .addColumn('movement_id', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Retried until then (3 days after it was enqueued or redelivered), then failed.
    .addColumn('give_up_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lease_token', 'uuid')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addUniqueConstraint('callback_deliveries_event_key', ['connection_id', 'order_ref', 'callback_type', 'movement_id'])
    .addUniqueConstraint('callback_deliveries_sequence_key', ['connection_id', 'order_ref', 'sequence'])
    .execute();
  await sql`create index callback_deliveries_due_idx on callback_deliveries (queue, next_attempt_at) where state = 'pending'`.execute(db);
  await sql`create index callback_deliveries_connection_idx on callback_deliveries (connection_id, created_at desc, id desc)`.execute(db);

  await db.schema
    .createTable('callback_attempts')
    .addColumn('delivery_id', 'uuid', (c) => c.notNull().references('callback_deliveries.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('delivered', 'retry', 'failed')`))
    .addPrimaryKeyConstraint('callback_attempts_pkey', ['delivery_id', 'attempt'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('callback_attempts').execute();
  await db.schema.dropTable('callback_deliveries').execute();
  await db.schema.dropTable('order_claims').execute();
  await db.schema.alterTable('connections').addColumn('callback_secret_enc', 'text').execute();
  await sql`update connections c set callback_secret_enc = cc.secret_enc from connection_callbacks cc where cc.connection_id = c.id`.execute(db);
  await db.schema.dropTable('connection_callbacks').execute();
}
