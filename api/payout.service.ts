/**
 * The payout list as its two parties see it (issue 8): pages, the CSV export, paid status, the
 * settlement statement and marking paid. Shared by the API (api/routes/payouts.ts) and the CLI
 * (`ccx payouts export`). Only the row's source and its seller ever see or change it; for anyone
 * else a row does not exist (404 / nothing).
 */
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import {
  getPayoutRowOfParty,
  listPayoutRows,
  markPaidUntil,
  markRowPaid,
  payoutRowPages,
  settlementSums,
  toPayoutRow,
  type PayoutFilters,
  type SettlementLine,
} from '../db/payout.repository.ts';
import { appendAuditEntry } from '../db/audit.repository.ts';
import { appendEvents } from '../db/event.repository.ts';
import type { Database } from '../db/schema.ts';
import type { AuditActor } from '../domain/audit.ts';
import { ErrorCode } from '../domain/errors.ts';
import { payoutEvent } from '../domain/event.ts';
import type { PaidStatus, PayoutRow } from '../domain/payout.ts';
import { ApiError } from './errors.ts';
import type { ListPayoutsInput, MarkPaidInput, PayoutCsvFilters, PayoutSummaryInput } from './payout.schemas.ts';

const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'payout row not found');

const filtersOf = (clientId: string, q: PayoutCsvFilters): PayoutFilters => ({
  clientId,
  type: q.type,
  paidStatus: q.paidStatus,
  counterpartyId: q.connectedClientId,
  from: q.from,
  to: q.to,
});

/** A page of the caller's rows, newest first. */
export async function listPayouts(db: Kysely<Database>, clientId: string, q: ListPayoutsInput): Promise<{ items: PayoutRow[]; nextCursor: string | null }> {
  const page = await listPayoutRows(db, { ...filtersOf(clientId, q), cursor: q.cursor, limit: q.limit });
  return { items: page.items.map(toPayoutRow), nextCursor: page.nextCursor };
}

/**
 * PUT paid-status. OPEN → PAID marks the row (changed_at, changed_by = the caller) and records it
 * in the audit log, in one transaction; PAID → PAID and OPEN → OPEN answer the row unchanged;
 * PAID → OPEN is 409 PAYOUT_ALREADY_PAID: paid is final.
 */
export async function setPaidStatus(db: Kysely<Database>, clientId: string, id: string, paidStatus: PaidStatus, actor: AuditActor): Promise<PayoutRow> {
  if (paidStatus === 'PAID') {
    const marked = await db.transaction().execute(async (trx) => {
      const row = await markRowPaid(trx, id, clientId);
      if (row) {
        await appendAuditEntry(trx, actor, { action: 'payout.marked-paid', subject: row.id, details: { marked: 1, rowIds: [row.id] } });
        await appendEvents(trx, [payoutEvent('payout.paid', toPayoutRow(row))]);
      }
      return row;
    });
    if (marked) return toPayoutRow(marked);
  }
  const row = await getPayoutRowOfParty(db, id, clientId);
  if (!row) throw notFound();
  if (paidStatus === 'OPEN' && row.paid_status === 'PAID') {
    throw new ApiError(ErrorCode.PAYOUT_ALREADY_PAID, 'the payout row is paid; paid is final', { id, paidStatus: 'PAID' });
  }
  return toPayoutRow(row);
}

export async function payoutSummary(db: Kysely<Database>, clientId: string, q: PayoutSummaryInput): Promise<{ items: SettlementLine[] }> {
  return { items: await settlementSums(db, { clientId, counterpartyId: q.connectedClientId, currency: q.currency, from: q.from, to: q.to }) };
}

/**
 * Marks every OPEN row of the caller's pairs before `until` paid, and records how many with the
 * filters in the audit log, in one transaction (the rows carry the entry's time as changed_at).
 */
export async function markPaid(db: Kysely<Database>, clientId: string, body: MarkPaidInput, actor: AuditActor): Promise<{ marked: number }> {
  return db.transaction().execute(async (trx) => {
    const rows = await markPaidUntil(trx, { clientId, until: body.until, counterpartyId: body.connectedClientId, currency: body.currency });
    const marked = rows.length;
    if (marked > 0) {
      await appendEvents(trx, rows.map((r) => payoutEvent('payout.paid', toPayoutRow(r))));
      const details = { marked, until: body.until, connectedClientId: body.connectedClientId ?? null, currency: body.currency ?? null };
      await appendAuditEntry(trx, actor, { action: 'payout.marked-paid', subject: null, details });
    }
    return { marked };
  });
}

// ── CSV ────────────────────────────────────────────────────────────────────────────────────────

export const PAYOUT_CSV_COLUMNS = [
  'id',
  'type',
  'paidStatus',
  'sourceClientId',
  'connectedClientId',
  'connectionId',
  'orderId',
  'subscriptionId',
  'invoiceId',
  'offerId',
  'costCenter',
  'paymentMethod',
  'amountMinor',
  'currency',
  'shareBasisPoints',
  'shareMinor',
  'ruleSetVersion',
  'createdAt',
  'changedAt',
  'changedBy',
] as const satisfies readonly (keyof PayoutRow)[];

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/**
 * One CSV cell: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with
 * `'` so a spreadsheet never reads it as a formula (CSV injection); then RFC 4180 quoting when it
 * holds a comma, a double quote, CR or LF (quotes doubled). Null is the empty cell.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (cells: readonly (string | number | null)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * The caller's rows as CSV (header row first, CRLF line ends), newest first: one chunk per keyset
 * page of `pageSize` rows, so memory stays flat whatever the size of the export. Pages are kept
 * small enough that a page is garbage before the young generation is collected twice (a page that
 * survives is promoted, and old space then grows with the export until a full collection).
 */
export async function* payoutCsv(db: Kysely<Database>, clientId: string, q: PayoutCsvFilters, pageSize = 2000): AsyncGenerator<string> {
  yield csvLine(PAYOUT_CSV_COLUMNS);
  for await (const rows of payoutRowPages(db, filtersOf(clientId, q), pageSize)) {
    let chunk = '';
    for (const record of rows) {
      const row = toPayoutRow(record);
      for (let i = 0; i < PAYOUT_CSV_COLUMNS.length; i++) chunk += (i === 0 ? '' : ',') + csvCell(row[PAYOUT_CSV_COLUMNS[i]!]);
      chunk += '\r\n';
    }
    yield chunk;
  }
}

/** The same CSV as a Readable (pulls the next page only when the consumer wants more). */
export const payoutCsvStream = (db: Kysely<Database>, clientId: string, q: PayoutCsvFilters, pageSize?: number): Readable =>
  Readable.from(payoutCsv(db, clientId, q, pageSize), { objectMode: false });
