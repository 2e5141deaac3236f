/**
 * Carts (docs/architecture.md "Offers and carts"): what a client sells at checkout — its own
 * offers and external offers of connected sources, each mandatory or optional.
 */
import type { ClientId } from './connection.ts';

export const CART_STATUSES = ['draft', 'active', 'suspended', 'archived'] as const;
export type CartStatus = (typeof CART_STATUSES)[number];

/** One item as the seller asks for it (HTTP body of create and `PUT …/items`). */
export interface CartItemRequest {
  offerId: string;
  mandatory: boolean;
  defaultSelected?: boolean;
  position?: number;
}

/** One item as the cart holds it: the request resolved against the offer when it was set. */
export interface CartItem {
  offerId: string;
  title: string;
  mandatory: boolean;
  defaultSelected: boolean;
  position: number;
  /** An offer of another client (the source), shared with the seller. */
  external: boolean;
  /** The offer's owner: the seller itself for own offers. */
  sourceClientId: ClientId;
  priceMinor: number;
  currency: string;
  /** Can be sold right now (own offers always; external ones while their source's availability says so). */
  available: boolean;
}

export interface CartView {
  id: string;
  clientId: ClientId;
  workflowId: string;
  title: string;
  status: CartStatus;
  /** The one currency of its items (null while it has none). */
  currency: string | null;
  items: CartItem[];
  version: number;
  ruleSetVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CartHistoryEntry {
  event: string;
  actor: ClientId | null;
  from: string | null;
  to: string;
  at: string;
}

