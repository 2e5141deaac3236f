// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * Impact previews of draft rule sets (issue 15): stored with an id so that a publish can name the
 * preview it was decided on (`POST /v1/rule-sets?preview=<id>`) and is refused when the draft
 * differs (`version` is the draft's content hash). `result` is the answer as it was given.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rule_set_previews')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('result', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rule_set_previews').ifExists().execute();
}
