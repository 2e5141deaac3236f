// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Offers, carts and the availability that links them (docs/architecture.md "Offers and carts").
 * - `offers` + `offer_targets`: an offer of its owner, shared (when cross-client) with targets.
 * - `available_pairs`: the one definition of "the source's offers reach the target right now"
 *   (connection active, offer access on, the module on for every company involved).
 * - `pair_availability`: per (source, target) a version bumped by every change that may alter
 *   what the target's carts can sell, and the version the fan-out has told them (an outbox: a
 *   row with version > told_version still has carts to tell).
 * - `carts` (read model, written by cart workflows) and `cart_sources`: which carts hold offers
 *   of which source — what the fan-out pages through.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('offers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_client_id', 'varchar(20)', (c) => c.notNull().references('clients.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('price_minor', 'bigint', (c) => c.notNull().check(sql`price_minor >= 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('cross_client', 'boolean', (c) => c.notNull())
    .addColumn('products', 'jsonb', (c) => c.notNull())
    .addColumn('self_service_hint', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('offers_owner_idx').on('offers').columns(['owner_client_id', 'id']).execute();

  await db.schema
    .createTable('offer_targets')
    .addColumn('offer_id', 'uuid', (c) => c.notNull().references('offers.id').onDelete('cascade'))
    .addColumn('target_client_id', 'varchar(20)', (c) => c.notNull().references('clients.id'))
    .addPrimaryKeyConstraint('offer_targets_pk', ['offer_id', 'target_client_id'])
    .execute();
  await db.schema.createIndex('offer_targets_target_idx').on('offer_targets').columns(['target_client_id', 'offer_id']).execute();

  await sql`
    create view available_pairs as
    select c.source_client_id, c.target_client_id
    from connections c
    join clients s on s.id = c.source_client_id
    join clients t on t.id = c.target_client_id
    where c.status = 'active' and c.offer_access
      and exists (select 1 from contract_modules m
                  where m.contracting_company_id = s.contracting_company_id and m.module = 'CROSS_CLIENT_CONNECTIONS' and m.active)
      and (t.contracting_company_id = s.contracting_company_id
           or exists (select 1 from contract_modules m
                      where m.contracting_company_id = t.contracting_company_id and m.module = 'CROSS_CLIENT_CONNECTIONS' and m.active))
  `.execute(db);

  await db.schema
    .createTable('pair_availability')
    .addColumn('source_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('target_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('told_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('pair_availability_pk', ['source_client_id', 'target_client_id'])
    .execute();
  await sql`create index pair_availability_untold_idx on pair_availability (changed_at) where version > told_version`.execute(db);

  await db.schema
    .createTable('carts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('client_id', 'varchar(20)', (c) => c.notNull().references('clients.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('currency', 'char(3)')
    .addColumn('items', 'jsonb', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('rule_set_version', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('carts_client_idx').on('carts').columns(['client_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('cart_sources')
    .addColumn('cart_id', 'uuid', (c) => c.notNull().references('carts.id').onDelete('cascade'))
    .addColumn('seller_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('source_client_id', 'varchar(20)', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cart_sources_pk', ['cart_id', 'source_client_id'])
    .execute();
  await db.schema.createIndex('cart_sources_pair_idx').on('cart_sources').columns(['source_client_id', 'seller_client_id', 'cart_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('cart_sources').execute();
  await db.schema.dropTable('carts').execute();
  await db.schema.dropTable('pair_availability').execute();
  await sql`drop view available_pairs`.execute(db);
  await db.schema.dropTable('offer_targets').execute();
  await db.schema.dropTable('offers').execute();
}
