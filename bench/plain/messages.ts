/**
 * The Temporal contract of the plain baseline (bench/plain): what a competent engineer writes in an
 * afternoon for the same connection lifecycle — no XState, no rules, no read-model versioning.
 * Shared by its workflow (sandbox) and its server; imports nothing of the product.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export interface Party {
  clientId: string;
  name: string;
  email: string;
  language: 'de' | 'en';
}

export type PlainStatus = 'new' | 'invited' | 'active' | 'blocked' | 'expired';

export interface PlainConnectionInput {
  connectionId: string;
  source: Party;
  target: Party;
  offerAccess: boolean;
  invitationTtlMs: number;
  /** false: the limit variant — the same lifecycle with no activities at all (no DB, no SMTP). */
  effects: boolean;
}

export interface PlainView {
  id: string;
  workflowId: string;
  sourceClientId: string;
  targetClientId: string;
  status: PlainStatus;
  offerAccess: boolean;
  blockedBy: string | null;
  expiresAt: string | null;
  version: number;
}

export interface ActorArgs {
  connectionId: string;
  actor: string;
}

export interface SaleAuthorization {
  connectionId: string;
  source: Party;
  target: Party;
}

export const inviteUpdate = defineUpdate<PlainView, [ActorArgs]>('invite');
export const acceptUpdate = defineUpdate<PlainView, [ActorArgs]>('accept');
export const setOfferAccessUpdate = defineUpdate<PlainView, [ActorArgs & { offerAccess: boolean }]>('setOfferAccess');
export const blockUpdate = defineUpdate<PlainView, [ActorArgs]>('block');
export const authorizeSaleUpdate = defineUpdate<SaleAuthorization, [{ actor: string }]>('authorizeSale');
export const viewQuery = defineQuery<PlainView>('view');

export const plainWorkflowId = (prefix: string, source: string, target: string) => `${prefix}:${source}:${target}`;

export interface PlainPurchaseItem {
  offerId: string;
  amountMinor: number;
  /** Set for a cross-client item: the offer's owner, its title and the seller's cost centre. */
  sourceClientId: string | null;
  title: string;
  costCenter: string;
}

export interface PlainPurchaseInput {
  sellerClientId: string;
  orderId: string;
  cartId: string;
  customerId: string;
  paymentMethod: string;
  currency: string;
  items: PlainPurchaseItem[];
  /** The connection workflow of each source sold through. */
  connectionWorkflowIds: Record<string, string>;
}

export interface PlainOrder {
  id: string;
  orderId: string;
  sellerClientId: string;
  currency: string;
  payouts: Array<{ id: string; sourceClientId: string; offerId: string; amountMinor: number; shareMinor: number; connectionId: string }>;
}

/** The product's search attribute names (temporal.config.ts), defined here again: the baseline shares nothing with it. */
export const sa = {
  ConnectionStatus: defineSearchAttributeKey('ConnectionStatus', SearchAttributeType.KEYWORD),
  OfferAccess: defineSearchAttributeKey('OfferAccess', SearchAttributeType.BOOL),
  SourceClientId: defineSearchAttributeKey('SourceClientId', SearchAttributeType.KEYWORD),
  TargetClientId: defineSearchAttributeKey('TargetClientId', SearchAttributeType.KEYWORD),
  RuleSetVersion: defineSearchAttributeKey('RuleSetVersion', SearchAttributeType.KEYWORD),
  ClientId: defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD),
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  PurchaseStatus: defineSearchAttributeKey('PurchaseStatus', SearchAttributeType.KEYWORD),
};
export const PLAIN_RULES_VERSION = 'plain-v1';
