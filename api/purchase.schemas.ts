/** Zod schemas of the purchase route (request validation and the OpenAPI document). */
import { z } from 'zod';
import { PayoutRow } from './payout.schemas.ts';
import { CHECKOUT_ID, PAYMENT_METHODS } from '../domain/payout.ts';

export const PurchaseItem = z.strictObject({
  offerId: z.string().min(1).max(64),
  amountMinor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('what the customer paid for it, in minor units'),
});

export const PurchaseBody = z
  .strictObject({
    orderId: z.string().regex(CHECKOUT_ID, 'must be 1–64 characters A-Z, a-z, 0-9, ".", "_" or "-"'),
    customerId: z.string().min(1).max(200),
    paymentMethod: z.enum(PAYMENT_METHODS),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be 3 upper-case letters'),
    items: z.array(PurchaseItem).min(1).max(100),
    subscriptionId: z.string().min(1).max(200).optional(),
    invoiceId: z.string().min(1).max(200).optional(),
  })
  .describe('Each offer appears once among the items (else 422 RULE_REJECTED, rule offer-once).');
export type PurchaseBody = z.infer<typeof PurchaseBody>;


export const Order = z.object({
  id: z.string(),
  orderId: z.string(),
  sellerClientId: z.string(),
  cartId: z.string(),
  customerId: z.string(),
  paymentMethod: z.string(),
  currency: z.string(),
  subscriptionId: z.string().nullable(),
  invoiceId: z.string().nullable(),
  items: z.array(z.object({ offerId: z.string(), amountMinor: z.number().int() })),
  createdAt: z.string(),
  payouts: z.array(PayoutRow).describe('the PAYMENT rows of the order: one per item of an external offer'),
});
