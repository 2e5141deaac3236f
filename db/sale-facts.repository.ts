/**
 * What a sale reads before it is authorized: its parties, its offers and, for the API, the cart
 * and the seller's connections. Each read is one statement (subqueries folded into one SELECT):
 * a sale is the hottest path of the service, and on a busy process every statement costs a round
 * trip, a socket write and a parse in Postgres (docs/performance.md).
 */
import type { Kysely } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import type { PartyFacts } from '../domain/connection.ts';
import type { SaleOfferRow } from '../domain/offer.ts';
import { isUuid } from '../domain/ids.ts';
import { partiesMap, partiesQuery, partiesSelect } from './client.repository.ts';
import type { CartRow, Database } from './schema.ts';

/** An offer as a sale reads it (`price_minor` a string from a row, a number through JSON). */
// `= any(array)` rather than `in (list)`: valid for an empty list too.
const offersQuery = (db: Kysely<Database>, offerIds: readonly string[]) =>
  db.selectFrom('offers').select(['id', 'title', 'price_minor', 'currency', 'owner_client_id', 'products']).where('id', '=', (eb) => eb.fn.any(eb.val(offerIds)));

/** A sale's parties (as getPartiesFacts) and its offers' rows, in one statement. */
export async function getSaleFacts(
  db: Kysely<Database>,
  clientIds: readonly string[],
  offerIds: readonly string[],
  module: string,
): Promise<{ parties: Map<string, PartyFacts>; offers: SaleOfferRow[] }> {
  const ids = [...new Set(clientIds)];
  const offers = [...new Set(offerIds)];
  if (ids.length === 0) return { parties: new Map(), offers: await offersQuery(db, offers).execute() };
  const row = await db
    .selectNoFrom([jsonArrayFrom(partiesQuery(db, ids, module)).as('parties'), jsonArrayFrom(offersQuery(db, offers)).as('offers')])
    .executeTakeFirstOrThrow();
  return { parties: partiesMap(row.parties), offers: row.offers };
}

/** The cart as a purchase checks it. */
export type SaleCart = Pick<CartRow, 'id' | 'client_id' | 'status' | 'currency' | 'items'>;

export interface PurchaseContext {
  /** Undefined when there is no such cart (whose it is, the caller checks). */
  cart: SaleCart | undefined;
  /** An order of this seller with this order id is recorded already (a retry). */
  orderRecorded: boolean;
  /** The seller and the owners of the purchased offers. */
  parties: Map<string, PartyFacts>;
  offers: SaleOfferRow[];
  /** The seller's active connections to those owners, by source client id. */
  connections: Map<string, { id: string; workflowId: string }>;
}

/**
 * Everything the API reads to start a purchase, in one statement. The offers are those of the
 * request (ids that are no UUID cannot be offers and are left out of the query); their owners are
 * the sources of the cart's external items. Whether the items belong to the cart, the caller checks
 * against the cart it gets back.
 */
export async function getPurchaseContext(
  db: Kysely<Database>,
  p: { cartId: string; sellerClientId: string; orderId: string; offerIds: readonly string[] },
  module: string,
): Promise<PurchaseContext> {
  const offerIds = [...new Set(p.offerIds.filter(isUuid))];
  const owners = offersQuery(db, offerIds).clearSelect().select('owner_client_id');
  const row = await db
    .selectNoFrom((eb) => [
      jsonObjectFrom(db.selectFrom('carts').select(['id', 'client_id', 'status', 'currency', 'items']).where('id', '=', p.cartId)).as('cart'),
      eb.exists(db.selectFrom('orders').select('id').where('seller_client_id', '=', p.sellerClientId).where('order_id', '=', p.orderId)).as('order_recorded'),
      jsonArrayFrom(partiesSelect(db, module).where((w) => w.or([w('c.id', '=', p.sellerClientId), w('c.id', 'in', owners)]))).as('parties'),
      jsonArrayFrom(offersQuery(db, offerIds)).as('offers'),
      jsonArrayFrom(
        db.selectFrom('connections').select(['id', 'workflow_id', 'source_client_id']).where('target_client_id', '=', p.sellerClientId).where('status', '=', 'active').where('source_client_id', 'in', owners),
      ).as('connections'),
    ])
    .executeTakeFirstOrThrow();
  return {
    cart: row.cart ?? undefined,
    orderRecorded: Boolean(row.order_recorded),
    parties: partiesMap(row.parties),
    offers: row.offers,
    connections: new Map(row.connections.map((c) => [c.source_client_id, { id: c.id, workflowId: c.workflow_id }])),
  };
}
