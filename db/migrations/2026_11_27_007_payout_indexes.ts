// Frozen in time: takes Kysely<any> so later schema changes never rewrite this migration.
import { sql, type Kysely } from 'kysely';

/**
 * The payout list of issue 8: one index per side of a pair, ordered like a page (newest first)
 * and covering what the settlement statement sums. They serve
 *   - a party's page narrowed to one counterparty (`connectedClientId`): an index range scan of the
 *     pair in page order, instead of filtering the party's whole history (migration 005's
 *     `*_page_idx` has no counterparty column; `payout_rows_pair_idx` is not in page order);
 *   - the summary (`GET /v1/payouts/summary`): an index-only scan of the party's (or the pair's)
 *     rows in the time window, grouped by currency, type and paid status from the INCLUDE columns
 *     — no heap visits, so a pair with 200k rows sums in tens of milliseconds.
 * And statistics of how many distinct (source, seller, currency, type, paid status) groups exist:
 * without them the planner multiplies the columns' distinct counts, expects tens of thousands of
 * groups and sorts the pair's rows on disk instead of hashing them into a handful of groups.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index payout_rows_source_pair_page_idx on payout_rows
    (source_client_id, connected_client_id, created_at desc, id desc)
    include (currency, type, paid_status, amount_minor, share_minor)`.execute(db);
  await sql`create index payout_rows_connected_pair_page_idx on payout_rows
    (connected_client_id, source_client_id, created_at desc, id desc)
    include (currency, type, paid_status, amount_minor, share_minor)`.execute(db);
  await sql`create statistics payout_rows_settlement_groups (ndistinct) on
    source_client_id, connected_client_id, currency, type, paid_status from payout_rows`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop statistics if exists payout_rows_settlement_groups`.execute(db);
  await sql`drop index if exists payout_rows_connected_pair_page_idx`.execute(db);
  await sql`drop index if exists payout_rows_source_pair_page_idx`.execute(db);
}
