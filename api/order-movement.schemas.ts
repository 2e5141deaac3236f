/**
 * Zod schemas of the order movement routes (api/routes/order-movements.ts): refunds, chargebacks
 * and recurring payments of an order. Bodies are strict; amounts are positive integer minor units
 * in the order's currency; every offer at most once per movement.
 */
import { z } from 'zod';
import { PayoutRow } from './payout.schemas.ts';
import { CHECKOUT_ID } from '../domain/payout.ts';

export const CheckoutId = z.string().regex(CHECKOUT_ID, 'must be 1–64 characters A-Z, a-z, 0-9, ".", "_" or "-"');

export const OrderIdParam = z.strictObject({ orderId: CheckoutId });

const MovementItem = z.strictObject({
  // Any string: an offer that is not in the order is a clear 422 ITEM_UNAVAILABLE naming it.
  offerId: z.string().min(1).max(64),
  amountMinor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
const MovementItems = z
  .array(MovementItem)
  .min(1)
  .max(100)
  .describe('each offer at most once (else 422 RULE_REJECTED, rule offer-once)');

export const RefundBody = z.strictObject({ refundId: CheckoutId, items: MovementItems });
export const ChargebackBody = z.strictObject({ chargebackId: CheckoutId, items: MovementItems });
export const RecurringPaymentBody = z.strictObject({ paymentId: CheckoutId, invoiceId: z.string().min(1).max(64).optional(), items: MovementItems });

export type MovementItemInput = z.infer<typeof MovementItem>;


const rows = z.array(PayoutRow).describe('one row per cross-client item of the order; items of own offers give none');
export const RefundCreated = z.object({ orderId: z.string(), refundId: z.string(), rows });
export const ChargebackCreated = z.object({ orderId: z.string(), chargebackId: z.string(), rows });
export const RecurringPaymentCreated = z.object({ orderId: z.string(), paymentId: z.string(), rows });
