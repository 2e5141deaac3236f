/**
 * Reads for the impact preview of a draft rule set (issue 15) and its stored answers. Every read
 * is a keyset page by id (UUIDv7, creation order) with the facts a rule needs joined in, so a
 * preview over a large read model holds one page at a time and never a long transaction.
 * Read-only apart from `insertPreview`.
 */
import { sql, type Kysely } from 'kysely';
import type { CartItem } from '../domain/cart.ts';
import { CROSS_CLIENT_MODULE, FINAL_STATUSES, type PartyFacts } from '../domain/connection.ts';
import type { OrderItem } from '../domain/payout.ts';
import type { CompiledRuleSet } from '../rules/model.ts';
import type { PreviewCart, PreviewConnection, PreviewPayment } from '../rules/preview.ts';
import type { Database } from './schema.ts';

const OPEN_CART_STATUSES = ['draft', 'active', 'suspended'];

/** A client joined with its company's module, aliased `<p>_…`; a missing module row is "off". */
type PartyColumns = { id: string; name: string; email: string; language: 'de' | 'en'; company: string; module: boolean | null };
const party = (p: PartyColumns): PartyFacts => ({
  clientId: p.id, name: p.name, email: p.email, language: p.language, contractingCompanyId: p.company, moduleActive: p.module === true,
});

/** Open connections (not final) whose target exists, after `afterId`, by id. */
export async function openConnectionsPage(db: Kysely<Database>, afterId: string | null, limit: number): Promise<PreviewConnection[]> {
  let q = db
    .selectFrom('connections as c')
    .innerJoin('clients as s', 's.id', 'c.source_client_id')
    .innerJoin('clients as t', 't.id', 'c.target_client_id')
    .leftJoin('contract_modules as sm', (j) => j.onRef('sm.contracting_company_id', '=', 's.contracting_company_id').on('sm.module', '=', CROSS_CLIENT_MODULE))
    .leftJoin('contract_modules as tm', (j) => j.onRef('tm.contracting_company_id', '=', 't.contracting_company_id').on('tm.module', '=', CROSS_CLIENT_MODULE))
    .select([
      'c.id', 'c.status', 'c.offer_access', 'c.blocked_by', 'c.callback_url', 'c.source_client_id', 'c.target_client_id', 'c.rule_set_version',
      's.name as s_name', 's.email as s_email', 's.language as s_language', 's.contracting_company_id as s_company', 'sm.active as s_module',
      't.name as t_name', 't.email as t_email', 't.language as t_language', 't.contracting_company_id as t_company', 'tm.active as t_module',
    ])
    .where('c.status', 'not in', [...FINAL_STATUSES]);
  if (afterId !== null) q = q.where('c.id', '>', afterId);
  const rows = await q.orderBy('c.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    offerAccess: r.offer_access,
    hasCallback: r.callback_url !== null,
    blockedBy: r.blocked_by,
    sourceClientId: r.source_client_id,
    targetClientId: r.target_client_id,
    ruleSetVersion: r.rule_set_version,
    source: party({ id: r.source_client_id, name: r.s_name, email: r.s_email, language: r.s_language, company: r.s_company, module: r.s_module }),
    target: party({ id: r.target_client_id, name: r.t_name, email: r.t_email, language: r.t_language, company: r.t_company, module: r.t_module }),
  }));
}

/** Carts not archived, after `afterId`, by id. */
export async function openCartsPage(db: Kysely<Database>, afterId: string | null, limit: number): Promise<PreviewCart[]> {
  let q = db
    .selectFrom('carts as k')
    .innerJoin('clients as s', 's.id', 'k.client_id')
    .leftJoin('contract_modules as sm', (j) => j.onRef('sm.contracting_company_id', '=', 's.contracting_company_id').on('sm.module', '=', CROSS_CLIENT_MODULE))
    .select([
      'k.id', 'k.title', 'k.status', 'k.items', 'k.rule_set_version', 'k.client_id',
      's.name as s_name', 's.email as s_email', 's.language as s_language', 's.contracting_company_id as s_company', 'sm.active as s_module',
    ])
    .where('k.status', 'in', OPEN_CART_STATUSES);
  if (afterId !== null) q = q.where('k.id', '>', afterId);
  const rows = await q.orderBy('k.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    status: r.status,
    items: r.items as CartItem[],
    ruleSetVersion: r.rule_set_version,
    seller: party({ id: r.client_id, name: r.s_name, email: r.s_email, language: r.s_language, company: r.s_company, module: r.s_module }),
  }));
}

/** PAYMENT rows (sales and renewals) created in [from, to), after `afterId`, by id, with their order, offer and parties. */
export async function paymentsPage(
  db: Kysely<Database>,
  window: { from: Date; to: Date },
  afterId: string | null,
  limit: number,
): Promise<PreviewPayment[]> {
  let q = db
    .selectFrom('payout_rows as p')
    .innerJoin('orders as o', 'o.id', 'p.order_ref')
    .innerJoin('offers as f', 'f.id', 'p.offer_id')
    .innerJoin('connections as c', 'c.id', 'p.connection_id')
    .innerJoin('clients as s', 's.id', 'p.source_client_id')
    .innerJoin('clients as t', 't.id', 'p.connected_client_id')
    .select([
      'p.id', 'p.type', 'p.source_client_id', 'p.connected_client_id', 'p.connection_id', 'p.offer_id', 'p.amount_minor', 'p.currency', 'p.share_minor',
      'c.callback_url', 'o.order_id', 'o.customer_id', 'o.payment_method', 'o.currency as order_currency', 'o.items as order_items',
      'f.title as offer_title', 'f.price_minor as offer_price', 'f.currency as offer_currency', 'f.owner_client_id',
      's.name as s_name', 's.email as s_email', 's.language as s_language', 's.contracting_company_id as s_company',
      't.name as t_name', 't.email as t_email', 't.language as t_language', 't.contracting_company_id as t_company',
    ])
    .where('p.created_at', '>=', window.from)
    .where('p.created_at', '<', window.to);
  if (afterId !== null) q = q.where('p.id', '>', afterId);
  const rows = await q.orderBy('p.id').limit(limit).execute();
  // A sale needed the module on for both parties (authorizeSale): that is the fact it was shared under.
  return rows.map((r) => ({
    rowId: r.id,
    type: r.type as PreviewPayment['type'],
    sourceClientId: r.source_client_id,
    connectedClientId: r.connected_client_id,
    connectionId: r.connection_id,
    hasCallback: r.callback_url !== null,
    offerId: r.offer_id,
    amountMinor: Number(r.amount_minor),
    currency: r.currency.trim(),
    shareMinor: Number(r.share_minor),
    order: { orderId: r.order_id, customerId: r.customer_id, paymentMethod: r.payment_method, currency: r.order_currency.trim(), items: r.order_items as OrderItem[] },
    offer: { id: r.offer_id, title: r.offer_title, priceMinor: Number(r.offer_price), currency: r.offer_currency.trim(), ownerClientId: r.owner_client_id },
    seller: party({ id: r.connected_client_id, name: r.t_name, email: r.t_email, language: r.t_language, company: r.t_company, module: true }),
    source: party({ id: r.source_client_id, name: r.s_name, email: r.s_email, language: r.s_language, company: r.s_company, module: true }),
  }));
}

/** The owners of offers: which items of an order are another client's (external). */
export async function offerOwners(db: Kysely<Database>, offerIds: readonly string[]): Promise<Map<string, string>> {
  if (offerIds.length === 0) return new Map();
  const rows = await db.selectFrom('offers').select(['id', 'owner_client_id']).where('id', 'in', [...new Set(offerIds)]).execute();
  return new Map(rows.map((r) => [r.id, r.owner_client_id]));
}

export async function getCompiledRuleSet(db: Kysely<Database>, version: string): Promise<CompiledRuleSet | undefined> {
  const row = await db.selectFrom('rule_sets').select('compiled').where('version', '=', version).executeTakeFirst();
  return row?.compiled as CompiledRuleSet | undefined; // stored by publishRuleSet from a checked CompiledRuleSet
}

/** What a publish naming a preview needs of it (the answer itself went to the caller). */
export interface StoredPreview {
  version: string;
  activeVersion: string | null;
  partial: boolean;
  /** How many entries each list had, and what was scanned: enough to tell what was decided on. */
  counts: Record<string, number>;
}

/** Days a preview can be named by a publish; older ones are deleted as new ones are made. */
export const PREVIEW_RETENTION_DAYS = 30;

export async function insertPreview(db: Kysely<Database>, p: { id: string; createdBy: string } & StoredPreview): Promise<void> {
  const { version, ...summary } = p;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('rule_set_previews').where('created_at', '<', sql<Date>`now() - ${`${PREVIEW_RETENTION_DAYS} days`}::interval`).execute();
    await trx
      .insertInto('rule_set_previews')
      .values({ id: p.id, version, result: JSON.stringify({ activeVersion: summary.activeVersion, partial: summary.partial, counts: summary.counts }), created_by: p.createdBy })
      .execute();
  });
}

export async function getPreview(db: Kysely<Database>, id: string): Promise<StoredPreview | undefined> {
  const row = await db.selectFrom('rule_set_previews').select(['version', 'result']).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  // Rows from before the summary held the whole answer, which has the same three fields.
  const result = row.result as { activeVersion?: string | null; partial?: boolean; counts?: Record<string, number> };
  return { version: row.version, activeVersion: result.activeVersion ?? null, partial: result.partial ?? false, counts: result.counts ?? {} };
}

/** Open connections and carts pinned to `version`: a count each and the first `limit` ids. */
export async function pinnedTo(db: Kysely<Database>, version: string, limit: number): Promise<{ connections: { count: number; ids: string[] }; carts: { count: number; ids: string[] } }> {
  // One after the other: the embedded database serves one query at a time.
  const connCount = await db.selectFrom('connections').select(sql<string>`count(*)`.as('n')).where('rule_set_version', '=', version).where('status', 'not in', [...FINAL_STATUSES]).executeTakeFirstOrThrow();
  const connIds = await db.selectFrom('connections').select('id').where('rule_set_version', '=', version).where('status', 'not in', [...FINAL_STATUSES]).orderBy('id').limit(limit).execute();
  const cartCount = await db.selectFrom('carts').select(sql<string>`count(*)`.as('n')).where('rule_set_version', '=', version).where('status', 'in', OPEN_CART_STATUSES).executeTakeFirstOrThrow();
  const cartIds = await db.selectFrom('carts').select('id').where('rule_set_version', '=', version).where('status', 'in', OPEN_CART_STATUSES).orderBy('id').limit(limit).execute();
  return {
    connections: { count: Number(connCount.n), ids: connIds.map((r) => r.id) },
    carts: { count: Number(cartCount.n), ids: cartIds.map((r) => r.id) },
  };
}
