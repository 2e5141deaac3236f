// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import type { Kysely } from 'kysely';

/**
 * A counter per (company, module) that every switch increments under the row lock: connections
 * receive switches by signal, possibly out of order, and keep the highest revision they saw.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contract_modules').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contract_modules').dropColumn('revision').execute();
}
