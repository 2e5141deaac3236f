/**
 * The payout list (docs/architecture.md "Purchases and the payout list"): reads for the parties of
 * a row, paid status, and the settlement statement. Rows are written by the purchase, refund,
 * chargeback and renewal paths, each in its own transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { PaidStatus, PayoutRow, PayoutType } from '../domain/payout.ts';
import { isUuid } from '../domain/ids.ts';
import { InvalidCursorError } from './id-cursor.ts';
import type { Database, PayoutRowRecord } from './schema.ts';

export function toPayoutRow(r: PayoutRowRecord): PayoutRow {
  return {
    id: r.id,
    type: r.type as PayoutType,
    paidStatus: r.paid_status as PaidStatus,
    sourceClientId: r.source_client_id,
    connectedClientId: r.connected_client_id,
    connectionId: r.connection_id,
    orderId: r.order_id,
    subscriptionId: r.subscription_id,
    invoiceId: r.invoice_id,
    offerId: r.offer_id,
    costCenter: r.cost_center,
    paymentMethod: r.payment_method,
    amountMinor: Number(r.amount_minor),
    currency: r.currency.trim(),
    shareBasisPoints: r.share_basis_points,
    shareMinor: Number(r.share_minor),
    ruleSetVersion: r.rule_set_version,
    createdAt: r.created_at.toISOString(),
    changedAt: r.changed_at.toISOString(),
    changedBy: r.changed_by,
  };
}

// ── Reads and paid status for the parties (issue 8) ────────────────────────────────────────────
//
// A row has two parties: its source (source_client_id) and its seller (connected_client_id). The
// caller is on one side OR the other, so every read runs the two sides as separate index-ordered
// queries — source side on `payout_rows_source_client_id_*` / `payout_rows_source_pair_page_idx`,
// seller side on the `connected_client_id` twins — and merges them; a plain OR over both columns
// would leave the planner a bitmap OR plus a sort of the caller's whole history.

/** Filters of a party's payout list; `counterpartyId` is the other party of the row. */
export interface PayoutFilters {
  clientId: string;
  type?: PayoutType | undefined;
  paidStatus?: PaidStatus | undefined;
  /** The other party: the seller when the caller is the source, the source when the caller is the seller. */
  counterpartyId?: string | undefined;
  /** created_at in [from, to): ISO timestamps. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface PayoutPageQuery extends PayoutFilters {
  cursor?: string | undefined;
  limit: number;
}

/** A stored row plus its exact sort key (created_at in microseconds since the epoch, as text). */
type KeyedRecord = PayoutRowRecord & { created_us: string };

export interface Position {
  createdUs: bigint;
  id: string;
}

export const isPayoutRowId = isUuid;

// Keyset over (created_at, id), newest first. created_at has microseconds, a JS Date only
// milliseconds: the cursor carries the exact microseconds, so rows within one millisecond are
// neither skipped nor repeated.
const createdUs = sql<string>`(extract(epoch from payout_rows.created_at) * 1000000)::int8`;
const fromMicros = (us: bigint) => sql<Date>`(timestamptz 'epoch' + ${us.toString()}::int8 * interval '1 microsecond')`;

export const encodePayoutCursor = (p: Position): string => Buffer.from(JSON.stringify([p.createdUs.toString(), p.id])).toString('base64url');

export function decodePayoutCursor(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && /^-?\d{1,19}$/.test(value[0]) && typeof value[1] === 'string' && isPayoutRowId(value[1])) {
      return { createdUs: BigInt(value[0]), id: value[1].toLowerCase() };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export type Side = 'source' | 'seller';
const partyColumn = (side: Side) => (side === 'source' ? 'source_client_id' : 'connected_client_id');
const otherColumn = (side: Side) => (side === 'source' ? 'connected_client_id' : 'source_client_id');

/**
 * The rows of one side matching the filters, in page order (created_at desc, id desc). Every
 * condition is an index condition of the side's indexes: party (+ counterparty or paid status),
 * then the keyset and the time window on created_at.
 */
export function payoutSideQuery(db: Kysely<Database>, side: Side, f: PayoutFilters, after: Position | undefined) {
  let q = db.selectFrom('payout_rows').selectAll('payout_rows').select(createdUs.as('created_us')).where(partyColumn(side), '=', f.clientId);
  // A row whose two parties are the same client (never written: no self-connections) counts once.
  if (side === 'seller') q = q.where('source_client_id', '<>', f.clientId);
  if (f.counterpartyId !== undefined) q = q.where(otherColumn(side), '=', f.counterpartyId);
  if (f.paidStatus !== undefined) q = q.where('paid_status', '=', f.paidStatus);
  if (f.type !== undefined) q = q.where('type', '=', f.type);
  if (f.from !== undefined) q = q.where('created_at', '>=', sql<Date>`${f.from}::timestamptz`);
  if (f.to !== undefined) q = q.where('created_at', '<', sql<Date>`${f.to}::timestamptz`);
  if (after) q = q.where(sql<boolean>`(payout_rows.created_at, payout_rows.id) < (${fromMicros(after.createdUs)}, ${after.id}::uuid)`);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc');
}

/**
 * Up to `take` rows of both sides in page order, in one round trip: each side is its own
 * index-ordered query limited to `take`, the union of the two (at most 2 × take rows) is sorted
 * and cut to `take`.
 */
async function mergedRows(db: Kysely<Database>, f: PayoutFilters, after: Position | undefined, take: number): Promise<KeyedRecord[]> {
  const side = (s: Side) => payoutSideQuery(db, s, f, after).limit(take);
  return db
    .selectFrom((eb) => eb.selectFrom(side('source').as('a')).selectAll().unionAll(eb.selectFrom(side('seller').as('b')).selectAll()).as('u'))
    .selectAll()
    .orderBy('u.created_at', 'desc')
    .orderBy('u.id', 'desc')
    .limit(take)
    .execute();
}

const positionOf = (r: KeyedRecord): Position => ({ createdUs: BigInt(r.created_us), id: r.id });

/** One page of the caller's rows (both sides), newest first, with an opaque keyset cursor. */
export async function listPayoutRows(db: Kysely<Database>, q: PayoutPageQuery): Promise<{ items: PayoutRowRecord[]; nextCursor: string | null }> {
  const after = q.cursor === undefined ? undefined : decodePayoutCursor(q.cursor);
  const rows = await mergedRows(db, q, after, q.limit + 1);
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? encodePayoutCursor(positionOf(last)) : null };
}

/**
 * Every row of the caller matching the filters, newest first, in keyset pages of `pageSize`: one
 * page in memory at a time (the CSV export).
 */
export async function* payoutRowPages(db: Kysely<Database>, f: PayoutFilters, pageSize = 5000): AsyncGenerator<PayoutRowRecord[]> {
  let after: Position | undefined;
  for (;;) {
    const rows = await mergedRows(db, f, after, pageSize);
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    after = positionOf(rows[rows.length - 1]!);
  }
}

/** The row if `clientId` is one of its parties; undefined for strangers and unknown ids. */
export async function getPayoutRowOfParty(db: Kysely<Database>, id: string, clientId: string): Promise<PayoutRowRecord | undefined> {
  if (!isPayoutRowId(id)) return undefined;
  const row = await db.selectFrom('payout_rows').selectAll().where('id', '=', id).executeTakeFirst();
  return row && (row.source_client_id === clientId || row.connected_client_id === clientId) ? row : undefined;
}

/**
 * OPEN → PAID for a party of the row, guarded by the condition itself: of concurrent calls exactly
 * one changes the row, and nothing ever writes OPEN again. Undefined when the row is not OPEN (or
 * not the caller's).
 */
export async function markRowPaid(db: Kysely<Database>, id: string, clientId: string): Promise<PayoutRowRecord | undefined> {
  if (!isPayoutRowId(id)) return undefined;
  return db
    .updateTable('payout_rows')
    .set({ paid_status: 'PAID', changed_at: sql`now()`, changed_by: clientId })
    .where('id', '=', id)
    .where('paid_status', '=', 'OPEN')
    .where((eb) => eb.or([eb('source_client_id', '=', clientId), eb('connected_client_id', '=', clientId)]))
    .returningAll()
    .executeTakeFirst();
}

export interface SettlementFilters {
  clientId: string;
  counterpartyId?: string | undefined;
  currency?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface SettlementLine {
  sourceClientId: string;
  connectedClientId: string;
  currency: string;
  type: PayoutType;
  paidStatus: PaidStatus;
  count: number;
  amountMinor: number;
  shareMinor: number;
}

/**
 * The settlement statement: count and sums per (source, seller, currency, type, paid status) over
 * the caller's rows. Each side is an index-only scan of `payout_rows_*_pair_page_idx` (the sums'
 * columns are INCLUDEd), so the time is the number of rows in range, not heap visits.
 */
export function settlementQuery(db: Kysely<Database>, f: SettlementFilters) {
  const side = (s: Side) => {
    let q = db
      .selectFrom('payout_rows')
      .select(['source_client_id', 'connected_client_id', 'currency', 'type', 'paid_status'])
      .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.sum<string>('amount_minor').as('amount'), eb.fn.sum<string>('share_minor').as('share')])
      .where(partyColumn(s), '=', f.clientId);
    if (s === 'seller') q = q.where('source_client_id', '<>', f.clientId);
    if (f.counterpartyId !== undefined) q = q.where(otherColumn(s), '=', f.counterpartyId);
    if (f.currency !== undefined) q = q.where('currency', '=', f.currency);
    if (f.from !== undefined) q = q.where('created_at', '>=', sql<Date>`${f.from}::timestamptz`);
    if (f.to !== undefined) q = q.where('created_at', '<', sql<Date>`${f.to}::timestamptz`);
    return q.groupBy(['source_client_id', 'connected_client_id', 'currency', 'type', 'paid_status']);
  };
  return side('source')
    .unionAll(side('seller'))
    .orderBy('source_client_id')
    .orderBy('connected_client_id')
    .orderBy('currency')
    .orderBy('type')
    .orderBy('paid_status');
}

export async function settlementSums(db: Kysely<Database>, f: SettlementFilters): Promise<SettlementLine[]> {
  const rows = await settlementQuery(db, f).execute();
  return rows.map((r) => ({
    sourceClientId: r.source_client_id,
    connectedClientId: r.connected_client_id,
    currency: r.currency.trim(),
    type: r.type,
    paidStatus: r.paid_status,
    count: Number(r.count),
    amountMinor: Number(r.amount),
    shareMinor: Number(r.share),
  }));
}

export interface MarkPaidFilters {
  clientId: string;
  /** created_at < until. */
  until: string;
  counterpartyId?: string | undefined;
  currency?: string | undefined;
}

/**
 * Every OPEN row of the caller's pairs (narrowed by the filters) created before `until` → PAID, in
 * one statement (one transaction). The rows are locked in id order first, so two parties marking
 * overlapping pairs at the same time wait for each other instead of deadlocking; a row another
 * call marked meanwhile is re-checked (still OPEN?) and not counted twice.
 */
export async function markPaidUntil(db: Kysely<Database>, f: MarkPaidFilters): Promise<PayoutRowRecord[]> {
  const side = (s: Side) => {
    let q = db
      .selectFrom('payout_rows')
      .select('id')
      .where(partyColumn(s), '=', f.clientId)
      .where('paid_status', '=', 'OPEN')
      .where('created_at', '<', sql<Date>`${f.until}::timestamptz`);
    if (s === 'seller') q = q.where('source_client_id', '<>', f.clientId);
    if (f.counterpartyId !== undefined) q = q.where(otherColumn(s), '=', f.counterpartyId);
    if (f.currency !== undefined) q = q.where('currency', '=', f.currency);
    return q;
  };
  return db
    .with('candidates', () => side('source').unionAll(side('seller')))
    .with('locked', (w) =>
      w
        .selectFrom('payout_rows')
        .select('payout_rows.id')
        .where('payout_rows.id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
        .orderBy('payout_rows.id')
        .forUpdate(),
    )
    .updateTable('payout_rows')
    .set({ paid_status: 'PAID', changed_at: sql`now()`, changed_by: f.clientId })
    .from('locked')
    .whereRef('payout_rows.id', '=', 'locked.id')
    .where('payout_rows.paid_status', '=', 'OPEN')
    .returningAll('payout_rows')
    .execute();
}
