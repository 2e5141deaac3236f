/**
 * Carts as the API runs them: items resolved against the read model (own offers, and external
 * offers shared with the seller and sellable right now), the fixed item rules and the rule set's
 * guards checked before anything starts, then Temporal with one deadline (docs/architecture.md
 * "Path of a command"). The API mints the cart id; workflow id `cart:<client>:<cartId>`.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { getCart, sellableOffers, toCartView } from '../db/cart.repository.ts';
import { getPartyFacts } from '../db/client.repository.ts';
import type { Database } from '../db/schema.ts';
import type { CartItem, CartItemRequest, CartView } from '../domain/cart.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import { ErrorCode } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';
import type { CartCommandName } from '../machines/cart.commands.ts';
import { checkCartItems } from '../machines/cart.items.ts';
import { cartFacts } from '../rules/cart-facts.ts';
import { clientFacts } from '../rules/connection-facts.ts';
import type { ClientFacts } from '../rules/facts.ts';
import { searchAttributes } from '../temporal.config.ts';
import { cartCreatedUpdate, cartUpdates, cartWorkflowId, type CartWorkflowInput } from '../workflows/cart.messages.ts';
import { cartWorkflow } from '../workflows/cart.workflow.ts';
import { activeRules } from './active-rules.ts';
import type { CommandCall } from './command-routes.ts';
import { ApiError } from './errors.ts';
import { withTemporalDeadline } from './temporal-deadline.ts';
import type { CartCommands } from '../machines/cart.commands.ts';

export interface CartServiceDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string };
  temporalDeadlineMs: number;
}

const notFound = () => new ApiError(ErrorCode.NOT_FOUND, 'cart not found');

/** The cart if the caller is its seller; 404 otherwise (never leak others' ids). */
export async function visibleCart(db: Kysely<Database>, id: string, callerClientId: string) {
  if (!isUuid(id)) throw notFound();
  return ownCart(await getCart(db, id), callerClientId);
}

/** A cart row read by the caller's own query: the same 404 as visibleCart unless the caller is its seller. */
export function ownCart<T extends { client_id: string }>(row: T | undefined, callerClientId: string): T {
  if (!row || row.client_id !== callerClientId) throw notFound();
  return row;
}

/** visibleCart's first check, for a caller reading the cart with more: an id that is no UUID is no cart. */
export function checkCartId(id: string): void {
  if (!isUuid(id)) throw notFound();
}

/**
 * The items as the cart will hold them. An offer the seller may not use — unknown, another
 * client's and not shared with it, or external and not sellable right now — is ITEM_UNAVAILABLE,
 * named in the details, the same answer for each case so no offer id leaks.
 */
export async function resolveItems(db: Kysely<Database>, sellerClientId: string, requests: readonly CartItemRequest[]): Promise<CartItem[]> {
  const offers = await sellableOffers(db, sellerClientId, requests.map((r) => r.offerId));
  return requests.map((r, n) => {
    const offer = offers.get(r.offerId);
    if (!offer || !offer.availableNow) {
      throw new ApiError(ErrorCode.ITEM_UNAVAILABLE, `offer ${r.offerId} cannot be sold by this client`, { offerId: r.offerId });
    }
    return {
      offerId: offer.id,
      title: offer.title,
      mandatory: r.mandatory,
      defaultSelected: r.defaultSelected ?? r.mandatory,
      position: r.position ?? n,
      external: offer.external,
      sourceClientId: offer.ownerClientId,
      priceMinor: offer.priceMinor,
      currency: offer.currency,
      available: true,
    };
  });
}

async function sellerFacts(db: Kysely<Database>, clientId: string): Promise<{ facts: ClientFacts; name: string }> {
  const party = await getPartyFacts(db, clientId, CROSS_CLIENT_MODULE);
  if (!party) throw new ApiError(ErrorCode.UNAUTHENTICATED, 'the client of this key no longer exists');
  return { facts: clientFacts(party), name: party.name };
}

export async function createCart(
  deps: CartServiceDeps,
  cart: { sellerClientId: string; title: string; items: CartItemRequest[]; cartId: string; updateId: string },
): Promise<CartView> {
  const { db } = deps;
  // A retry whose first attempt took effect answers with what was recorded.
  const recorded = await getCart(db, cart.cartId);
  if (recorded && recorded.client_id === cart.sellerClientId) return toCartView(recorded);

  const seller = await sellerFacts(db, cart.sellerClientId);
  const items = await resolveItems(db, cart.sellerClientId, cart.items);
  const invalid = checkCartItems(items);
  if (invalid) throw new ApiError(invalid.code, invalid.message, invalid.details);
  const rules = await activeRules(db);
  const verdict = rules.evaluator.checkGuards('cart.setItems', { seller: seller.facts, cart: cartFacts({ id: cart.cartId, title: cart.title, status: 'draft' }, items) });
  if (!verdict.allowed) throw new ApiError(verdict.code, verdict.message, { rule: verdict.rule });

  const input: CartWorkflowInput = {
    cartId: cart.cartId,
    clientId: cart.sellerClientId,
    title: cart.title,
    items,
    seller: seller.facts,
    ruleSetVersion: rules.ruleSet.hash, // read by the run at start: the Temporal UI's input stays short
  };
  const workflowId = cartWorkflowId(cart.sellerClientId, cart.cartId);
  const created = { args: [{ cartId: cart.cartId }] as [{ cartId: string }], updateId: cart.updateId };
  return withTemporalDeadline(deps, async () => {
    try {
      const handle = await deps.temporal.client.workflow.start(cartWorkflow, {
        taskQueue: deps.temporal.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { cartId: cart.cartId, ruleSetVersion: rules.ruleSet.hash, ruleSetName: rules.ruleSet.name },
        typedSearchAttributes: [
          { key: searchAttributes.CartStatus, value: 'draft' },
          { key: searchAttributes.ClientId, value: cart.sellerClientId },
          { key: searchAttributes.RuleSetVersion, value: rules.ruleSet.hash },
        ],
        staticSummary: `${seller.name}: ${cart.title}`,
      });
      return await handle.executeUpdate(cartCreatedUpdate, created);
    } catch (err) {
      // The cart id is ours alone: a run that exists is our own first attempt.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return deps.temporal.client.workflow.getHandle<typeof cartWorkflow>(workflowId).executeUpdate(cartCreatedUpdate, created);
    }
  });
}

/** Sends a command as its update; `setItems` carries the items resolved here. */
export async function runCartCommand(deps: CartServiceDeps, call: CommandCall<CartCommands>): Promise<CartView> {
  const row = await visibleCart(deps.db, call.id, call.callerClientId);
  const name: CartCommandName = call.name;
  const handle = deps.temporal.client.workflow.getHandle<typeof cartWorkflow>(row.workflow_id);
  const base = { cartId: row.id, actor: call.callerClientId };
  if (name === 'setItems') {
    const items = await resolveItems(deps.db, call.callerClientId, (call.body as { items: CartItemRequest[] }).items);
    return withTemporalDeadline(deps, () => handle.executeUpdate(cartUpdates.setItems, { args: [{ ...base, items }], updateId: call.updateId }));
  }
  return withTemporalDeadline(deps, () => handle.executeUpdate(cartUpdates[name], { args: [base], updateId: call.updateId }));
}
