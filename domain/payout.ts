/**
 * Orders and the payout list (docs/architecture.md "Purchases and the payout list"). Amounts are
 * positive integer minor units; the type gives the direction (PAYMENT in, REFUND and LOSS out).
 * A row's share is the source's settlement share in basis points of its amount, rounded half away
 * from zero; a REFUND or LOSS reuses the basis points of the PAYMENT it reverses.
 */
import type { ClientId } from './connection.ts';

export const PAYMENT_METHODS = [
  'AMAZON_PAY', 'APPLE_PAY', 'BANK_ACCOUNT', 'BILLING', 'CREDIT_CARD', 'GOOGLE_PAY', 'IDEAL', 'PAYPAL', 'POSTFINANCE', 'SOFORT',
  'TWINT', 'ZERO',
] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const PAYOUT_TYPES = ['PAYMENT', 'REFUND', 'LOSS'] as const;
export type PayoutType = (typeof PAYOUT_TYPES)[number];
export const PAID_STATUSES = ['OPEN', 'PAID'] as const;
export type PaidStatus = (typeof PAID_STATUSES)[number];

/** Order, refund, chargeback and payment ids: given by the checkout, unique per seller. */
export const CHECKOUT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One paid item of a purchase, as the checkout reports it (it may differ from the list price). */
export interface OrderItem {
  offerId: string;
  amountMinor: number;
}

export interface PurchaseRequest {
  orderId: string;
  customerId: string;
  paymentMethod: PaymentMethod;
  currency: string;
  items: OrderItem[];
  subscriptionId?: string;
  invoiceId?: string;
}

export interface PayoutRow {
  id: string;
  type: PayoutType;
  paidStatus: PaidStatus;
  sourceClientId: ClientId;
  connectedClientId: ClientId;
  connectionId: string;
  orderId: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  offerId: string;
  costCenter: string;
  paymentMethod: string;
  amountMinor: number;
  currency: string;
  shareBasisPoints: number;
  shareMinor: number;
  ruleSetVersion: string;
  createdAt: string;
  changedAt: string;
  changedBy: string | null;
}

/** A PAYMENT row of a sale, its share computed by the connection's pinned payout rules. */
export interface SalePayment {
  sourceClientId: ClientId;
  connectionId: string;
  offerId: string;
  costCenter: string;
  amountMinor: number;
  shareBasisPoints: number;
  shareMinor: number;
  /** The hash of the rule set the connection was pinned to when the sale was authorized. */
  ruleSetVersion: string;
}

export interface OrderView {
  id: string;
  orderId: string;
  sellerClientId: ClientId;
  cartId: string;
  customerId: string;
  paymentMethod: string;
  currency: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  items: OrderItem[];
  createdAt: string;
  payouts: PayoutRow[];
}
