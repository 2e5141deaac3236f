/**
 * The Temporal contract of purchases: workflow id, input and result. Client-safe, like
 * workflows/messages.ts. Whoever can reach Temporal directly is trusted: the items it passes
 * (which are external, of which source) are taken as given; the connection of each source still
 * decides, in its own history, whether the sale may happen (update `authorizeSale`).
 */
import type { ClientId } from '../domain/connection.ts';
import type { OrderView, PurchaseRequest } from '../domain/payout.ts';
import type { PurchaseItemFacts } from '../rules/facts.ts';

/** One run per order ever (reuse policy REJECT_DUPLICATE): the id is the lock of the order. */
export const purchaseWorkflowId = (sellerClientId: ClientId, orderId: string): string => `purchase:${sellerClientId}:${orderId}`;

/** The run that sends the mails of one purchase (child of the purchase run, abandoned when it closes). */
export const purchaseMailWorkflowId = (sellerClientId: ClientId, orderId: string): string => `purchase-mail:${sellerClientId}:${orderId}`;

import type { ClientFacts, OfferFacts } from '../rules/facts.ts';

/** What the payout rules of a purchase read, loaded once per run. */
export interface LoadedPurchaseFacts {
  seller: ClientFacts;
  sources: Record<string, ClientFacts>;
  /** Per external offer: its rule facts and the cost centre the seller books it against. */
  offers: Record<string, { facts: OfferFacts; costCenter: string }>;
  /**
   * Per source: its active connection with the seller when the facts were read (the API reads it
   * with the cart). The sale asks that connection without looking it up again; a source not named
   * here is looked up when the sale is authorized.
   */
  connections?: Record<string, { id: string; workflowId: string }>;
  /** The mail addresses of seller and sources: the sale mails are written without reading the parties again. */
  emails?: Record<string, string>;
}


export interface PurchaseWorkflowInput {
  /** The seller: the client whose cart sold the items. */
  sellerClientId: ClientId;
  cartId: string;
  /** The purchase as the checkout reported it (the HTTP body). */
  request: PurchaseRequest;
  /** sha256 of the canonical JSON of {cartId, body}: the same order id with another body is a conflict. */
  requestHash: string;
  /** The request's items resolved against the cart, in request order. */
  items: PurchaseItemFacts[];
  /**
   * Minted by the caller that starts the run and echoed in the result: a caller whose start joined
   * an existing run (conflict policy USE_EXISTING) sees another token and knows it did not create it.
   */
  startToken?: string;
  /**
   * What the payout rules read (seller, sources, offers), loaded by the API with the cart it
   * checked: the run then skips its own loading activity. Callers going to Temporal directly may
   * leave it out.
   */
  facts?: LoadedPurchaseFacts;
  /**
   * The run's shape, named so that it need not ask a patch (a marker and a search-attribute write:
   * two history events and a visibility update per purchase). `'one-step'`: today's, set by the
   * API — one activity authorizes, prices and records. `'lean'`: the shape before it (authorize,
   * then price and record as a local activity), still run by callers that name it. A run without
   * a shape asks the patches, so runs from before stay replayable (workflows/purchase.workflow.ts).
   */
  shape?: 'one-step' | 'lean';
}

export interface PurchaseResult {
  order: OrderView;
  requestHash: string;
  startToken: string | null;
}

/** Values of the search attribute `PurchaseStatus`. */
export type PurchaseStatus = 'authorizing' | 'recording' | 'recorded' | 'refused';
