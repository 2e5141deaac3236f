/**
 * Offers and the clients they are shared with (docs/architecture.md "Offers and carts"). Postgres
 * is the authority. The caller owns the transaction (pass a Transaction for `db` to combine calls
 * with `touchPairs`). "Shared with the target right now" is the view `available_pairs` plus the
 * offer's own targets; nothing here re-states that rule.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { costCenterFor, type ExternalOfferView, type OfferProduct, type OfferView } from '../domain/offer.ts';
import { isUuid } from '../domain/ids.ts';
import { decodeIdCursor, encodeIdCursor } from './id-cursor.ts';
import type { Database, OfferRow } from './schema.ts';

export type OfferRowWithTargets = OfferRow & { targets: string[] };

/** The stored fields of an offer, as the service writes them. */
export interface OfferFields {
  title: string;
  priceMinor: number;
  currency: string;
  crossClient: boolean;
  products: OfferProduct[];
  selfServiceHint: string | null;
}

export const isOfferId = isUuid;

/** The offer's targets, sorted, as one JSON column (json is parsed by pg; no array parser needed). */
const targetsOf = sql<string[]>`coalesce((select json_agg(t.target_client_id order by t.target_client_id) from offer_targets t where t.offer_id = offers.id), '[]'::json)`;

const withTargets = (db: Kysely<Database>) => db.selectFrom('offers').selectAll('offers').select(targetsOf.as('targets'));

/** Inserts the offer and its targets; undefined when the id is taken (an idempotent retry). */
export async function insertOffer(
  db: Kysely<Database>,
  offer: OfferFields & { id: string; ownerClientId: string; targets: readonly string[] },
): Promise<OfferRowWithTargets | undefined> {
  const row = await db
    .insertInto('offers')
    .values({
      id: offer.id,
      owner_client_id: offer.ownerClientId,
      title: offer.title,
      price_minor: offer.priceMinor,
      currency: offer.currency,
      cross_client: offer.crossClient,
      products: JSON.stringify(offer.products),
      self_service_hint: offer.selfServiceHint,
      updated_at: sql`now()`, // = created_at: one transaction time
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  await addTargets(db, offer.id, offer.targets);
  return { ...row, targets: [...offer.targets].sort() };
}

export async function getOffer(db: Kysely<Database>, id: string): Promise<OfferRowWithTargets | undefined> {
  if (!isOfferId(id)) return undefined;
  return withTargets(db).where('offers.id', '=', id).executeTakeFirst();
}

/** The owner's offer, row-locked until the caller's transaction ends (read-modify-write of a PATCH). */
export async function lockOwnOffer(db: Kysely<Database>, id: string, ownerClientId: string): Promise<OfferRowWithTargets | undefined> {
  if (!isOfferId(id)) return undefined;
  return withTargets(db).where('offers.id', '=', id).where('offers.owner_client_id', '=', ownerClientId).forUpdate().executeTakeFirst();
}

/** Writes the fields and the target set, bumps version and updated_at; returns the new row. */
export async function updateOffer(
  db: Kysely<Database>,
  id: string,
  fields: Omit<OfferFields, 'currency'>,
  targets: { before: readonly string[]; after: readonly string[] },
): Promise<OfferRowWithTargets> {
  const row = await db
    .updateTable('offers')
    .set({
      title: fields.title,
      price_minor: fields.priceMinor,
      cross_client: fields.crossClient,
      products: JSON.stringify(fields.products),
      self_service_hint: fields.selfServiceHint,
      version: sql`version + 1`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const removed = targets.before.filter((t) => !targets.after.includes(t));
  if (removed.length > 0) {
    await db.deleteFrom('offer_targets').where('offer_id', '=', id).where('target_client_id', 'in', removed).execute();
  }
  await addTargets(db, id, targets.after.filter((t) => !targets.before.includes(t)));
  return { ...row, targets: [...targets.after].sort() };
}

async function addTargets(db: Kysely<Database>, offerId: string, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  await db
    .insertInto('offer_targets')
    .values(targets.map((t) => ({ offer_id: offerId, target_client_id: t })))
    .onConflict((oc) => oc.columns(['offer_id', 'target_client_id']).doNothing())
    .execute();
}

/** Which of these client ids exist. */
export async function existingClientIds(db: Kysely<Database>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('clients').select('id').where('id', 'in', [...ids]).execute();
  return new Set(rows.map((r) => r.id));
}

export interface OfferPageQuery {
  clientId: string;
  cursor?: string;
  limit: number;
}

// Keyset over the offer id: UUIDv7 minted by the API, so id order is creation order (newest
// first), and both listings ride an index ((owner_client_id, id), (target_client_id, offer_id)).

async function page<O extends { id: string }>(
  query: SelectQueryBuilder<Database, 'offers', O>,
  q: OfferPageQuery,
): Promise<{ items: O[]; nextCursor: string | null }> {
  const after = q.cursor === undefined ? undefined : decodeIdCursor(q.cursor);
  const rows = await (after === undefined ? query : query.where('offers.id', '<', after))
    .orderBy('offers.id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > q.limit && last ? encodeIdCursor(last.id) : null };
}

/** The client's own offers, newest first. */
export async function listOwnOffers(db: Kysely<Database>, q: OfferPageQuery): Promise<{ items: OfferRowWithTargets[]; nextCursor: string | null }> {
  return page(withTargets(db).where('offers.owner_client_id', '=', q.clientId), q);
}

/** Cross-client offers shared with the client and reaching it right now (available_pairs). */
function externalOffers(db: Kysely<Database>, clientId: string) {
  return db
    .selectFrom('offers')
    .selectAll('offers')
    .where('offers.cross_client', '=', true)
    .where((eb) =>
      eb.and([
        eb.exists(
          eb
            .selectFrom('offer_targets as t')
            .select(sql`1`.as('one'))
            .whereRef('t.offer_id', '=', 'offers.id')
            .where('t.target_client_id', '=', clientId),
        ),
        eb.exists(
          eb
            .selectFrom('available_pairs as p')
            .select(sql`1`.as('one'))
            .whereRef('p.source_client_id', '=', 'offers.owner_client_id')
            .where('p.target_client_id', '=', clientId),
        ),
      ]),
    );
}

export async function listExternalOffers(db: Kysely<Database>, q: OfferPageQuery): Promise<{ items: ExternalOfferView[]; nextCursor: string | null }> {
  const result = await page(externalOffers(db, q.clientId), q);
  return { items: result.items.map((row) => toExternalOfferView(row, q.clientId)), nextCursor: result.nextCursor };
}

/** The offer as `clientId` may see it as a target right now; undefined otherwise. */
export async function getExternalOffer(db: Kysely<Database>, id: string, clientId: string): Promise<ExternalOfferView | undefined> {
  if (!isOfferId(id)) return undefined;
  const row = await externalOffers(db, clientId).where('offers.id', '=', id).executeTakeFirst();
  return row && toExternalOfferView(row, clientId);
}

const productsOf = (row: OfferRow): OfferProduct[] => row.products as OfferProduct[];

export function toOfferView(row: OfferRowWithTargets): OfferView {
  return {
    id: row.id,
    ownerClientId: row.owner_client_id,
    title: row.title,
    priceMinor: Number(row.price_minor), // int8 arrives as a string; amounts stay below 2^53
    currency: row.currency,
    crossClient: row.cross_client,
    connectedClientIds: row.cross_client ? row.targets : [],
    products: productsOf(row),
    selfServiceHint: row.self_service_hint,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toExternalOfferView(row: OfferRow, targetClientId: string): ExternalOfferView {
  return {
    id: row.id,
    ownerClientId: row.owner_client_id,
    title: row.title,
    priceMinor: Number(row.price_minor),
    currency: row.currency,
    products: productsOf(row).map((p) => ({ name: p.name, costCenter: costCenterFor(p, targetClientId) })),
    selfServiceHint: row.self_service_hint,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}
