/**
 * Zod schemas of the payout routes (api/routes/payouts.ts). Queries and bodies are strict.
 * `connectedClientId` always names the OTHER party of a row: the seller when the caller is the
 * row's source, the source when the caller is its seller.
 */
import { z } from 'zod';
import { PAID_STATUSES, PAYOUT_TYPES } from '../domain/payout.ts';
import { Currency } from './offer.schemas.ts';
import { IsoInstant } from './schemas.ts';

const Timestamp = IsoInstant;
// Any string: an id that is no party of the caller's rows simply matches nothing.
const Counterparty = z.string().min(1).max(64).describe('the other party of the row: the seller for rows the caller is the source of, the source for rows it sold');

const filterFields = {
  type: z.enum(PAYOUT_TYPES).optional(),
  paidStatus: z.enum(PAID_STATUSES).optional(),
  connectedClientId: Counterparty.optional(),
  from: Timestamp.optional().describe('created_at ≥ from (ISO 8601 with offset)'),
  to: Timestamp.optional().describe('created_at < to (ISO 8601 with offset)'),
};

export const PayoutCsvQuery = z.strictObject(filterFields);
export const ListPayoutsQuery = z.strictObject({
  ...filterFields,
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const PayoutSummaryQuery = z.strictObject({
  from: filterFields.from,
  to: filterFields.to,
  connectedClientId: Counterparty.optional(),
  currency: Currency.optional(),
});
export const PaidStatusBody = z.strictObject({ paidStatus: z.enum(PAID_STATUSES) });
export const MarkPaidBody = z.strictObject({
  until: Timestamp.describe('rows created before this instant (ISO 8601 with offset)'),
  connectedClientId: Counterparty.optional(),
  currency: Currency.optional(),
});

export type PayoutCsvFilters = z.infer<typeof PayoutCsvQuery>;
export type ListPayoutsInput = z.infer<typeof ListPayoutsQuery>;
export type PayoutSummaryInput = z.infer<typeof PayoutSummaryQuery>;
export type MarkPaidInput = z.infer<typeof MarkPaidBody>;

export const PayoutRow = z.object({
  id: z.string(),
  type: z.enum(PAYOUT_TYPES),
  paidStatus: z.enum(PAID_STATUSES),
  sourceClientId: z.string(),
  connectedClientId: z.string(),
  connectionId: z.string(),
  orderId: z.string(),
  subscriptionId: z.string().nullable(),
  invoiceId: z.string().nullable(),
  offerId: z.string(),
  costCenter: z.string(),
  paymentMethod: z.string(),
  amountMinor: z.number().int(),
  currency: z.string(),
  shareBasisPoints: z.number().int(),
  shareMinor: z.number().int(),
  ruleSetVersion: z.string(),
  createdAt: z.string(),
  changedAt: z.string(),
  changedBy: z.string().nullable(),
});
export const PayoutList = z.object({ items: z.array(PayoutRow), nextCursor: z.string().nullable() });
export const PayoutSummary = z.object({
  items: z.array(
    z.object({
      sourceClientId: z.string(),
      connectedClientId: z.string(),
      currency: z.string(),
      type: z.enum(PAYOUT_TYPES),
      paidStatus: z.enum(PAID_STATUSES),
      count: z.number().int(),
      amountMinor: z.number().int(),
      shareMinor: z.number().int(),
    }),
  ),
});
export const MarkPaidResult = z.object({ marked: z.number().int() });
/** The CSV export, documented as text/csv (streamed: the route sends a Readable). */
export const PayoutCsv = {
  description: 'a header row, then one row per payout row, newest first (CRLF, no BOM)',
  content: { 'text/csv': { schema: z.string() } },
};
