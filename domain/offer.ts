/**
 * Offers (docs/architecture.md "Offers and carts"). Money is integer minor units with an ISO 4217
 * currency. A cross-client offer names the clients it is shared with and, per product, the cost
 * centre each target books a sale against.
 */
import type { ClientId } from './connection.ts';

export interface OfferProduct {
  name: string;
  /** The cost centre a target books this product against, unless `costCenters` names its own. */
  costCenter: string;
  /** Per target client: its own cost centre for this product (an offer shared with several). */
  costCenters?: Record<ClientId, string>;
}

/** An offer as its owner sees it. */
export interface OfferView {
  id: string;
  ownerClientId: ClientId;
  title: string;
  priceMinor: number;
  currency: string;
  crossClient: boolean;
  /** Empty unless cross-client. */
  connectedClientIds: ClientId[];
  products: OfferProduct[];
  selfServiceHint: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A cross-client offer as a target sees it: read-only, its own cost centres, no other targets. */
export interface ExternalOfferView {
  id: string;
  ownerClientId: ClientId;
  title: string;
  priceMinor: number;
  currency: string;
  products: Array<{ name: string; costCenter: string }>;
  selfServiceHint: string | null;
  version: number;
  updatedAt: string;
}

/** The cost centre `target` books `product` against. */
export const costCenterFor = (product: OfferProduct, target: ClientId): string => product.costCenters?.[target] ?? product.costCenter;

/** An offer as a sale reads it: one row of `offers` (db/sale-facts.repository.ts), as the database names its columns. */
export interface SaleOfferRow {
  id: string;
  title: string;
  price_minor: string | number;
  currency: string;
  owner_client_id: string;
  products: unknown;
}
