/**
 * The payout list (docs/architecture.md "Purchases and the payout list"): reads for the parties of
 * a row, paid status, and the settlement statement. Rows are written by the purchase, refund,
 * chargeback and renewal paths, each in its own transaction.
 */
import type { PaidStatus, PayoutRow, PayoutType } from '../domain/payout.ts';
import type { PayoutRowRecord } from './schema.ts';

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
