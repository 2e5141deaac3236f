/**
 * The carts read model (written by cart workflows through activities) and the offers a seller may
 * put into a cart. Cart ids are UUIDv7, so ordering by id is ordering by creation.
 */
import { sql, type Kysely } from 'kysely';
import type { CartItem, CartStatus, CartView } from '../domain/cart.ts';
import { isUuid } from '../domain/ids.ts';
import { decodeIdCursor, encodeIdCursor } from './id-cursor.ts';
import type { CartRow, Database } from './schema.ts';

/**
 * Writes the view unless the same or a newer version is stored; when it writes, the cart's
 * sources (what the availability fan-out pages through) follow its external items — none once
 * archived. Returns whether it wrote.
 */
export async function recordCart(db: Kysely<Database>, view: CartView): Promise<boolean> {
  const written = await db
    .insertInto('carts')
    .values({
      id: view.id,
      client_id: view.clientId,
      workflow_id: view.workflowId,
      title: view.title,
      status: view.status,
      currency: view.currency,
      items: JSON.stringify(view.items),
      version: view.version,
      rule_set_version: view.ruleSetVersion,
      created_at: view.createdAt,
      updated_at: view.updatedAt,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          currency: eb.ref('excluded.currency'),
          items: eb.ref('excluded.items'),
          version: eb.ref('excluded.version'),
          rule_set_version: eb.ref('excluded.rule_set_version'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('carts.version', '<', (eb) => eb.ref('excluded.version')),
    )
    .returning('id')
    .executeTakeFirst();
  if (!written) return false;
  const sources = view.status === 'archived' ? [] : [...new Set(view.items.filter((i) => i.external).map((i) => i.sourceClientId))];
  let stale = db.deleteFrom('cart_sources').where('cart_id', '=', view.id);
  if (sources.length > 0) stale = stale.where('source_client_id', 'not in', sources);
  await stale.execute();
  if (sources.length > 0) {
    await db
      .insertInto('cart_sources')
      .values(sources.map((s) => ({ cart_id: view.id, seller_client_id: view.clientId, source_client_id: s, workflow_id: view.workflowId })))
      .onConflict((oc) => oc.columns(['cart_id', 'source_client_id']).doNothing())
      .execute();
  }
  return true;
}

export async function getCart(db: Kysely<Database>, id: string): Promise<CartRow | undefined> {
  return db.selectFrom('carts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function toCartView(row: CartRow): CartView {
  return {
    id: row.id,
    clientId: row.client_id,
    workflowId: row.workflow_id,
    title: row.title,
    status: row.status as CartStatus,
    currency: row.currency,
    items: row.items as CartItem[],
    version: row.version,
    ruleSetVersion: row.rule_set_version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The seller's carts, newest first, keyset-paged by id. */
export async function listCarts(
  db: Kysely<Database>,
  query: { clientId: string; status?: CartStatus; cursor?: string; limit: number },
): Promise<{ items: CartRow[]; nextCursor: string | null }> {
  let q = db.selectFrom('carts').selectAll().where('client_id', '=', query.clientId);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.cursor !== undefined) q = q.where('id', '<', decodeIdCursor(query.cursor));
  const rows = await q.orderBy('id', 'desc').limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > query.limit && last ? encodeIdCursor(last.id) : null };
}

/** An offer as a seller may put it into a cart: its own, or another's shared with it (and whether it can be sold now). */
export interface SellableOffer {
  id: string;
  ownerClientId: string;
  title: string;
  priceMinor: number;
  currency: string;
  external: boolean;
  /** Own offers: always. External: shared with the seller and its pair available right now. */
  availableNow: boolean;
}

/** The offers among `offerIds` the seller may use: its own, and cross-client offers shared with it. Others are absent. */
export async function sellableOffers(db: Kysely<Database>, sellerClientId: string, offerIds: readonly string[]): Promise<Map<string, SellableOffer>> {
  const ids = offerIds.filter(isUuid);
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: string; owner_client_id: string; title: string; price_minor: string; currency: string; available: boolean }>`
    select o.id, o.owner_client_id, o.title, o.price_minor, o.currency,
      (o.owner_client_id = ${sellerClientId}
       or exists (select 1 from available_pairs p where p.source_client_id = o.owner_client_id and p.target_client_id = ${sellerClientId})) as available
    from offers o
    where o.id in (${sql.join(ids)})
      and (o.owner_client_id = ${sellerClientId}
           or (o.cross_client and exists (select 1 from offer_targets t where t.offer_id = o.id and t.target_client_id = ${sellerClientId})))
  `.execute(db);
  return new Map(
    rows.rows.map((r) => [
      r.id,
      {
        id: r.id, ownerClientId: r.owner_client_id, title: r.title, priceMinor: Number(r.price_minor), currency: r.currency.trim(),
        external: r.owner_client_id !== sellerClientId, availableNow: r.available,
      },
    ]),
  );
}
