/**
 * Callbacks to the source of a cross-client sale (docs/callbacks.md): what is POSTed, per money
 * movement of an order, to the callback URL of the connection the sale went through. Only the
 * source's items and shares travel, and a claim code — never the seller's customer data.
 */
import type { PayoutType } from './payout.ts';

export const CALLBACK_TYPES = ['ORDER_PURCHASED', 'ORDER_REFUNDED', 'ORDER_CHARGED_BACK', 'ORDER_RENEWED'] as const;
export type CallbackType = (typeof CALLBACK_TYPES)[number];

/** The movement a callback tells of: the purchase (its first PAYMENT), or a later movement. */
export function callbackTypeOf(type: PayoutType, isFirstPayment: boolean): CallbackType {
  if (type === 'REFUND') return 'ORDER_REFUNDED';
  if (type === 'LOSS') return 'ORDER_CHARGED_BACK';
  return isFirstPayment ? 'ORDER_PURCHASED' : 'ORDER_RENEWED';
}

export interface CallbackItem {
  payoutId: string;
  offerId: string;
  costCenter: string;
  amountMinor: number;
  shareBasisPoints: number;
  shareMinor: number;
  ruleSetVersion: string;
}

/** The `entity` of a CROSS_CLIENT_ORDER callback. */
export interface CrossClientOrderEntity {
  /** Our id of the order (UUID), the same in every callback of the order. */
  id: string;
  /** The checkout's order id, unique per seller. */
  orderId: string;
  sellerClientId: string;
  sourceClientId: string;
  connectionId: string;
  subscriptionId: string | null;
  invoiceId: string | null;
  paymentMethod: string;
  currency: string;
  orderedAt: string;
  /** 1 for the purchase, then +1 per movement of this order told to this source: deliveries may arrive out of order. */
  sequence: number;
  /** With POST /v1/claims the source links the buyer to a customer of its own. */
  claimCode: string;
  movement: { type: PayoutType; id: string; invoiceId: string | null };
  /** This source's items of the movement (positive amounts; the type gives the direction). */
  items: CallbackItem[];
  totals: { amountMinor: number; shareMinor: number };
}

export interface CallbackPayload {
  entityType: 'CROSS_CLIENT_ORDER';
  callbackType: CallbackType;
  /** = entity.id */
  entityId: string;
  entity: CrossClientOrderEntity;
}

/** Retried for this long after it was enqueued (or redelivered), then marked failed. */
export const CALLBACK_RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
