// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * The callback claim counts a connection's deliveries in flight (db/callback.repository.ts
 * `claimDueCallbacks`): pending rows by connection and lease, so the count never walks a
 * connection's delivered history.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index callback_deliveries_in_flight_idx on callback_deliveries (connection_id, lease_until) where state = 'pending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists callback_deliveries_in_flight_idx`.execute(db);
}
