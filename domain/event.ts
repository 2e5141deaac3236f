/**
 * The change feed (GET /v1/events): what a client learns without polling each resource. Each
 * change is recorded for every client allowed to see it, in the transaction that makes it; `data`
 * is small — enough to act on, the resource itself is one GET away.
 */
import type { CartView } from './cart.ts';
import type { ConnectionView, HistoryEntry } from './connection.ts';
import type { PayoutRow } from './payout.ts';

export const EVENT_TYPES = [
  'connection.changed',
  'cart.changed',
  'order.recorded',
  'order.refunded',
  'order.chargedBack',
  'order.renewed',
  'payout.created',
  'payout.paid',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One change and the clients that see it. */
export interface FeedEvent {
  clientIds: readonly string[];
  type: EventType;
  entityId: string;
  data: Record<string, unknown>;
}

/** A connection transition: both parties see it. */
export const connectionEvent = (view: ConnectionView, history: Pick<HistoryEntry, 'event' | 'actor'>): FeedEvent => ({
  clientIds: [view.sourceClientId, view.targetClientId],
  type: 'connection.changed',
  entityId: view.id,
  data: {
    event: history.event,
    actor: history.actor,
    status: view.status,
    offerAccess: view.offerAccess,
    blockedBy: view.blockedBy,
    sourceClientId: view.sourceClientId,
    targetClientId: view.targetClientId,
    version: view.version,
  },
});

/** A cart transition (items set, activated, suspended, active again, archived): the seller's alone. */
export const cartEvent = (view: CartView): FeedEvent => ({
  clientIds: [view.clientId],
  type: 'cart.changed',
  entityId: view.id,
  data: {
    status: view.status,
    title: view.title,
    unavailableOfferIds: view.items.filter((i) => !i.available).map((i) => i.offerId),
    version: view.version,
  },
});

/** A payout row: both of its parties see it (created, or marked PAID). */
export const payoutEvent = (type: 'payout.created' | 'payout.paid', row: PayoutRow): FeedEvent => ({
  clientIds: [...new Set([row.sourceClientId, row.connectedClientId])],
  type,
  entityId: row.id,
  data: { ...row },
});
