/**
 * Purchases as the API runs them (`POST /v1/carts/{id}/purchases`): a pre-check against the read
 * model (cart visible and active, every item an available item of it, the cart's currency), then
 * one purchase workflow per order (`purchase:<seller>:<orderId>`, conflict policy USE_EXISTING,
 * reuse REJECT_DUPLICATE) whose result the API awaits under one deadline. Postgres is the authority
 * on orders: a recorded order answers 200 to the same request and 409 ORDER_CONFLICT to another.
 *
 * 201 vs 200: the request mints a `startToken` into the workflow input; the run echoes the token
 * of the request that started it, so only that request answers 201. Every other request for the
 * same order — joined to the open run, or answered from Postgres — answers 200 with the same body.
 */
import { createHash, randomUUID } from 'node:crypto';
import { purchaseFactsOf } from '../workflows/sale-facts.ts';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { getOrderView } from '../db/order.repository.ts';
import type { Database } from '../db/schema.ts';
import { getPurchaseContext, type PurchaseContext, type SaleCart } from '../db/sale-facts.repository.ts';
import type { CartItem } from '../domain/cart.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import type { OrderView, PurchaseRequest } from '../domain/payout.ts';
import { searchAttributes } from '../temporal.config.ts';
import { purchaseWorkflowId, type PurchaseWorkflowInput } from '../workflows/purchase.messages.ts';
import { purchaseWorkflow } from '../workflows/purchase.workflow.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkCartId, ownCart } from './cart.service.ts';
import { ApiError, fromTemporalError } from './errors.ts';
import { checkOfferOnce } from './schemas.ts';
import { withTemporalDeadline } from './temporal-deadline.ts';

export interface PurchaseServiceDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string };
  temporalDeadlineMs: number;
}

export interface PurchaseOutcome {
  /** This request started the run that recorded the order (201); otherwise 200. */
  created: boolean;
  order: OrderView;
}

const orderConflict = (orderId: string) => new ApiError(ErrorCode.ORDER_CONFLICT, `order ${orderId} was already submitted with another request`);

/** sha256 of the canonical JSON of {cartId, body}: what "the same order" means. */
export const purchaseRequestHash = (cartId: string, body: PurchaseRequest): string =>
  createHash('sha256').update(canonicalJson({ cartId, body }), 'utf8').digest('hex');

export async function purchase(deps: PurchaseServiceDeps, p: { sellerClientId: string; cartId: string; body: PurchaseRequest }): Promise<PurchaseOutcome> {
  const { db } = deps;
  checkCartId(p.cartId);
  // Cart, recorded order, parties, offers and connections in one statement (db/sale-facts.repository.ts).
  const context = await getPurchaseContext(db, { cartId: p.cartId, sellerClientId: p.sellerClientId, orderId: p.body.orderId, offerIds: p.body.items.map((i) => i.offerId) }, CROSS_CLIENT_MODULE);
  const cart = ownCart(context.cart, p.sellerClientId);
  const requestHash = purchaseRequestHash(cart.id, p.body);

  // An order recorded before (a retry): Postgres answers, before any check that may have changed since.
  const recorded = context.orderRecorded ? await getOrderView(db, p.sellerClientId, p.body.orderId) : undefined;
  if (recorded) return answerRecorded(recorded, requestHash, p.body.orderId);
  const twice = checkOfferOnce(p.body.items);
  if (twice) throw twice;

  const items = precheck(cart, p.body);
  const startToken = randomUUID();
  const external = p.body.items.map((i) => items.get(i.offerId)!).filter((i) => i.external);
  const sourceClientIds = [...new Set(external.map((i) => i.sourceClientId))].sort();
  // The payout rules' facts, read with the cart (the run skips its loading activity). A refusal
  // is left to the run, so that it is recorded the same way whoever started it.
  const loaded = purchaseFactsOf(context.parties, context.offers, { sellerClientId: p.sellerClientId, sourceClientIds, offerIds: external.map((i) => i.offerId) });
  const sellerName = context.parties.get(p.sellerClientId)?.name;
  if (sellerName === undefined) throw new ApiError(ErrorCode.UNAUTHENTICATED, 'the client of this key no longer exists');
  // For the Temporal UI's summary: whose offers this sale shares.
  const sourceNames = sourceClientIds.map((id) => context.parties.get(id)?.name ?? id).sort();
  const input: PurchaseWorkflowInput = {
    sellerClientId: p.sellerClientId,
    cartId: cart.id,
    request: p.body,
    requestHash,
    items: p.body.items.map((i) => {
      const item = items.get(i.offerId)!;
      return { offerId: i.offerId, amountMinor: i.amountMinor, external: item.external, sourceClientId: item.sourceClientId };
    }),
    startToken,
    ...(loaded.ok ? { facts: { ...loaded.facts, ...contactsOf(context, p.sellerClientId, sourceClientIds) } } : {}),
    shape: 'one-step',
  };
  const workflowId = purchaseWorkflowId(p.sellerClientId, p.body.orderId);
  const { client, taskQueue } = deps.temporal;
  try {
    return await withTemporalDeadline(deps, async () => {
      let handle;
      try {
        handle = await client.workflow.start(purchaseWorkflow, {
          taskQueue,
          workflowId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { requestHash },
          typedSearchAttributes: [
            { key: searchAttributes.OrderId, value: p.body.orderId },
            { key: searchAttributes.PurchaseStatus, value: 'authorizing' },
            { key: searchAttributes.ClientId, value: p.sellerClientId },
          ],
          staticSummary: `${sellerName}: order ${p.body.orderId}${sourceNames.length > 0 ? ` (shares with ${sourceNames.join(', ')})` : ''}`,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return await closedRun(deps, workflowId, p.sellerClientId, p.body.orderId, requestHash);
      }
      // The run may be another request's (USE_EXISTING): the same order only if the same request.
      // Its result names the request that started it, so no describe call is needed while it
      // goes well (one Temporal round trip less per purchase); a refusal is ours only if the run is.
      try {
        const result = await handle.result();
        if (result.requestHash !== requestHash) throw orderConflict(p.body.orderId);
        return { created: result.startToken === startToken, order: result.order };
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        if ((await handle.describe()).memo?.requestHash !== requestHash) throw orderConflict(p.body.orderId);
        throw err;
      }
    });
  } catch (err) {
    const mapped = err instanceof ApiError ? err : fromTemporalError(err);
    if (mapped?.code === ErrorCode.UNAVAILABLE) {
      throw new ApiError(ErrorCode.UNAVAILABLE, 'the purchase is still being recorded; retry the same request (it converges on the same order)');
    }
    throw err;
  }
}

/** The sources' connections and the parties' addresses read with the cart: the sale neither looks them up nor reads them again. */
function contactsOf(context: PurchaseContext, sellerClientId: string, sourceClientIds: readonly string[]) {
  const connections = Object.fromEntries(sourceClientIds.flatMap((id) => (context.connections.has(id) ? [[id, context.connections.get(id)!]] : [])));
  const emails = Object.fromEntries([sellerClientId, ...sourceClientIds].flatMap((id) => (context.parties.has(id) ? [[id, context.parties.get(id)!.email]] : [])));
  return { connections, emails };
}

function answerRecorded(recorded: { view: OrderView; requestHash: string }, requestHash: string, orderId: string): PurchaseOutcome {
  if (recorded.requestHash !== requestHash) throw orderConflict(orderId);
  return { created: false, order: recorded.view };
}

/**
 * The order's one run has closed (REJECT_DUPLICATE): Postgres is the authority. No order recorded
 * means the run was refused: the same request gets the same refusal, another one 409 — the order id
 * is spent either way.
 */
async function closedRun(deps: PurchaseServiceDeps, workflowId: string, sellerClientId: string, orderId: string, requestHash: string): Promise<PurchaseOutcome> {
  const recorded = await getOrderView(deps.db, sellerClientId, orderId);
  if (recorded) return answerRecorded(recorded, requestHash, orderId);
  const handle = deps.temporal.client.workflow.getHandle<typeof purchaseWorkflow>(workflowId);
  if ((await handle.describe()).memo?.requestHash !== requestHash) throw orderConflict(orderId);
  const result = await handle.result(); // throws the run's refusal
  return { created: false, order: result.order }; // completed between our two reads
}

/**
 * The cart must be active, every item an available item of it, in its currency. Returns the cart's
 * items by offer id.
 */
function precheck(cart: SaleCart, body: PurchaseRequest): Map<string, CartItem> {
  const items = new Map((cart.items as CartItem[]).map((i) => [i.offerId, i]));
  if (cart.status === 'draft' || cart.status === 'archived') {
    throw new ApiError(ErrorCode.INVALID_TRANSITION, `cannot purchase from a cart that is ${cart.status}`);
  }
  if (cart.status === 'suspended') {
    const offerIds = [...items.values()].filter((i) => !i.available).map((i) => i.offerId);
    throw new ApiError(ErrorCode.ITEM_UNAVAILABLE, 'the cart is suspended: a mandatory item cannot be sold right now', { offerIds });
  }
  for (const { offerId } of body.items) {
    const item = items.get(offerId);
    if (!item) throw new ApiError(ErrorCode.ITEM_UNAVAILABLE, `offer ${offerId} is not an item of this cart`, { offerId });
    if (!item.available) throw new ApiError(ErrorCode.ITEM_UNAVAILABLE, `offer ${offerId} cannot be sold right now`, { offerId });
  }
  if (body.currency !== cart.currency?.trim()) {
    throw new ApiError(ErrorCode.CURRENCY_MISMATCH, `the cart sells in ${cart.currency}, not ${body.currency}`, { currency: cart.currency });
  }
  return items;
}
