/**
 * Later money movements on an order (issue 8): refunds, chargebacks and recurring payments of the
 * order's subscription. Postgres is the authority (no workflow). Each movement is one transaction:
 * the order row locked, the movement's key checked (replay or conflict), the items checked against
 * the order and the caps, then the movement record and its payout rows written.
 *
 * Shares are never re-evaluated: a reversal (REFUND, LOSS) and a renewal take the basis points and
 * rule-set version of the item's original PAYMENT row (movement id = the order id). Per item,
 * refunds + chargebacks never exceed what was paid (the original payment and every renewal), and
 * the reversed share never exceeds the paid share (rounding could otherwise pay back more).
 */
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import {
  getMovement,
  insertMovement,
  insertPayoutRows,
  lockSellerOrder,
  payoutRowsOfMovement,
  payoutRowsOfOrder,
  type MovementType,
} from '../db/order-movement.repository.ts';
import { appendEvents } from '../db/event.repository.ts';
import { enqueueOrderCallbacks } from '../db/callback.repository.ts';
import { toPayoutRow } from '../db/payout.repository.ts';
import type { Database, OrderRow, PayoutRowRecord } from '../db/schema.ts';
import { ErrorCode } from '../domain/errors.ts';
import { payoutEvent, type EventType } from '../domain/event.ts';
import type { OrderItem, PayoutRow } from '../domain/payout.ts';
import { roundedShare } from '../rules/evaluator.ts';
import { ApiError } from './errors.ts';
import { requestHash } from './idempotency.ts';
import type { MovementItemInput } from './order-movement.schemas.ts';
import { checkOfferOnce } from './schemas.ts';

export interface MovementCommand {
  sellerClientId: string;
  /** The checkout's order id (orders.order_id), unique per seller. */
  orderId: string;
  type: MovementType;
  /** The refund, chargeback or payment id. */
  movementId: string;
  /** PAYMENT only: the renewal's invoice (else the order's). */
  invoiceId?: string | undefined;
  items: MovementItemInput[];
}

export interface MovementResult {
  orderId: string;
  movementId: string;
  rows: PayoutRow[];
  /** True when the movement was recorded before (a retry with the same body). */
  replayed: boolean;
}

const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'order not found');

/** The change-feed event of each movement type. */
const MOVEMENT_EVENT: Record<MovementType, EventType> = { REFUND: 'order.refunded', LOSS: 'order.chargedBack', PAYMENT: 'order.renewed' };

/** The request as the movement key remembers it: items in offer order, so their order does not matter. */
function hashOf(cmd: MovementCommand): string {
  const items = [...cmd.items].sort((a, b) => (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0));
  return requestHash('POST', `order-movement:${cmd.type}`, { movementId: cmd.movementId, invoiceId: cmd.invoiceId ?? null, items });
}

/** Rows in the order of the request's items. */
function inItemOrder(rows: PayoutRowRecord[], items: readonly MovementItemInput[]): PayoutRow[] {
  const index = new Map(items.map((item, i) => [item.offerId, i]));
  return [...rows].sort((a, b) => (index.get(a.offer_id) ?? 0) - (index.get(b.offer_id) ?? 0)).map(toPayoutRow);
}

/** `callbackQueue`: the deployment's task queue, whose workers deliver the callbacks to the sources. */
export async function recordOrderMovement(db: Kysely<Database>, cmd: MovementCommand, callbackQueue: string): Promise<MovementResult> {
  const key = { type: cmd.type, movementId: cmd.movementId };
  const requestHashValue = hashOf(cmd);
  return db.transaction().execute(async (trx) => {
    const order = await lockSellerOrder(trx, cmd.sellerClientId, cmd.orderId);
    if (!order) throw notFound();
    const movementKey = { orderRef: order.id, ...key };

    const recorded = await getMovement(trx, movementKey);
    if (recorded) {
      if (recorded.request_hash !== requestHashValue) {
        throw new ApiError(ErrorCode.ORDER_CONFLICT, `${cmd.type} ${cmd.movementId} of order ${cmd.orderId} was recorded with another request`, {
          orderId: cmd.orderId,
          type: cmd.type,
          movementId: cmd.movementId,
        });
      }
      return { orderId: order.order_id, movementId: cmd.movementId, rows: inItemOrder(await payoutRowsOfMovement(trx, movementKey), cmd.items), replayed: true };
    }
    if (cmd.type === 'PAYMENT' && cmd.movementId === order.order_id) {
      // Its rows would be the order's own first payment (movement id = the order id).
      throw new ApiError(ErrorCode.ORDER_CONFLICT, 'a recurring payment cannot carry the id of the order it renews', { paymentId: cmd.movementId });
    }
    if (cmd.type === 'PAYMENT' && order.subscription_id === null) {
      throw new ApiError(ErrorCode.RULE_REJECTED, 'the order has no subscription: there is nothing to renew', { rule: 'payment-needs-subscription' });
    }

    const twice = checkOfferOnce(cmd.items);
    if (twice) throw twice;
    const orderOffers = new Set((order.items as OrderItem[]).map((i) => i.offerId));
    const missing = cmd.items.filter((i) => !orderOffers.has(i.offerId)).map((i) => i.offerId);
    if (missing.length > 0) {
      throw new ApiError(ErrorCode.ITEM_UNAVAILABLE, `offer ${missing.join(', ')} is not in order ${cmd.orderId}`, {
        offerId: missing[0],
        offerIds: missing,
      });
    }

    const existing = await payoutRowsOfOrder(trx, order.id);
    const rows = cmd.items.flatMap((item) => {
      const offerRows = existing.filter((r) => r.offer_id === item.offerId);
      const original = offerRows.find((r) => r.type === 'PAYMENT' && r.movement_id === order.order_id);
      if (!original) return []; // an item of the seller's own offer: accepted, no payout row
      return [cmd.type === 'PAYMENT' ? renewal(order, original, item, cmd) : reversal(original, offerRows, item, cmd)];
    });

    await insertMovement(trx, { ...movementKey, requestHash: requestHashValue });
    const written = await insertPayoutRows(trx, rows);
    // The change feed, in the movement's transaction: the seller learns of it, both parties of each row.
    const movement = { orderId: order.order_id, type: cmd.type, movementId: cmd.movementId, payoutRowIds: written.map((r) => r.id) };
    await appendEvents(trx, [
      { clientIds: [cmd.sellerClientId], type: MOVEMENT_EVENT[cmd.type], entityId: order.order_id, data: movement },
      ...written.map((r) => payoutEvent('payout.created', toPayoutRow(r))),
    ]);
    // Told to each source in this transaction (the outbox); the order's lock orders the sequence numbers.
    await enqueueOrderCallbacks(trx, {
      queue: callbackQueue,
      order,
      type: cmd.type,
      movementId: cmd.movementId,
      invoiceId: cmd.type === 'PAYMENT' ? (cmd.invoiceId ?? order.invoice_id) : order.invoice_id,
      items: written.map((r) => ({
        payoutId: r.id, connectionId: r.connection_id, sourceClientId: r.source_client_id, offerId: r.offer_id, costCenter: r.cost_center,
        amountMinor: Number(r.amount_minor), shareBasisPoints: r.share_basis_points, shareMinor: Number(r.share_minor), ruleSetVersion: r.rule_set_version,
      })),
    });
    return { orderId: order.order_id, movementId: cmd.movementId, rows: inItemOrder(written, cmd.items), replayed: false };
  });
}

const sum = (rows: PayoutRowRecord[], field: 'amount_minor' | 'share_minor'): bigint => rows.reduce((acc, r) => acc + BigInt(r[field]), 0n);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** A PAYMENT row of the renewal: the original row's shares, recomputed for the new amount. */
function renewal(order: OrderRow, original: PayoutRowRecord, item: MovementItemInput, cmd: MovementCommand) {
  return {
    ...copied(original),
    id: uuidv7(),
    type: 'PAYMENT' as const,
    movement_id: cmd.movementId,
    reverses_row_id: null,
    invoice_id: cmd.invoiceId ?? order.invoice_id,
    amount_minor: item.amountMinor,
    share_minor: roundedShare(BigInt(item.amountMinor), BigInt(original.share_basis_points)).toString(),
  };
}

/**
 * A REFUND or LOSS row reversing the original PAYMENT row, within what was paid for the item (all
 * its PAYMENT rows) less what was reversed before; the share never takes back more than was paid.
 */
function reversal(original: PayoutRowRecord, offerRows: PayoutRowRecord[], item: MovementItemInput, cmd: MovementCommand) {
  const payments = offerRows.filter((r) => r.type === 'PAYMENT');
  const reversals = offerRows.filter((r) => r.type === 'REFUND' || r.type === 'LOSS');
  const paid = sum(payments, 'amount_minor');
  const reversed = sum(reversals, 'amount_minor');
  const amount = BigInt(item.amountMinor);
  if (reversed + amount > paid) {
    throw new ApiError(ErrorCode.REFUND_EXCEEDS_PAYMENT, `refunds and chargebacks of offer ${item.offerId} would exceed what was paid for it`, {
      offerId: item.offerId,
      paidMinor: Number(paid),
      reversedMinor: Number(reversed),
      requestedMinor: item.amountMinor,
    });
  }
  const shareLeft = sum(payments, 'share_minor') - sum(reversals, 'share_minor');
  const share = min(roundedShare(amount, BigInt(original.share_basis_points)), shareLeft < 0n ? 0n : shareLeft);
  return {
    ...copied(original),
    id: uuidv7(),
    type: cmd.type,
    movement_id: cmd.movementId,
    reverses_row_id: original.id,
    invoice_id: original.invoice_id,
    amount_minor: item.amountMinor,
    share_minor: share.toString(),
  };
}

/** What every later row of the item shares with its original PAYMENT row. */
const copied = (original: PayoutRowRecord) => ({
  source_client_id: original.source_client_id,
  connected_client_id: original.connected_client_id,
  connection_id: original.connection_id,
  order_ref: original.order_ref,
  order_id: original.order_id,
  subscription_id: original.subscription_id,
  offer_id: original.offer_id,
  cost_center: original.cost_center,
  payment_method: original.payment_method,
  currency: original.currency,
  share_basis_points: original.share_basis_points,
  rule_set_version: original.rule_set_version,
});
