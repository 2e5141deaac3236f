/**
 * Availability of a source's offers to a target (docs/architecture.md "Availability"). The truth is
 * computed from the read model (view `available_pairs`, offers and their targets); the
 * `pair_availability` row versions it and serves as the outbox of the fan-out that tells carts.
 */
import { sql, type Kysely } from 'kysely';
import type { PairAvailability } from '../domain/availability.ts';
import { FINAL_STATUSES } from '../domain/connection.ts';
import type { Database } from './schema.ts';

export interface Pair {
  sourceClientId: string;
  targetClientId: string;
}

/**
 * Records that something the pairs' carts depend on changed (a connection transition, a module
 * switch, an offer's sharing): bumps each pair's version in the caller's transaction. The fan-out
 * started afterwards (or the relay, if that start is lost) tells the carts.
 */
export async function touchPairs(db: Kysely<Database>, pairs: readonly Pair[]): Promise<void> {
  const unique = [...new Map(pairs.map((p) => [`${p.sourceClientId}:${p.targetClientId}`, p])).values()];
  if (unique.length === 0) return;
  await db
    .insertInto('pair_availability')
    .values(unique.map((p) => ({ source_client_id: p.sourceClientId, target_client_id: p.targetClientId, version: 1, changed_at: new Date() })))
    .onConflict((oc) =>
      oc.columns(['source_client_id', 'target_client_id']).doUpdateSet({
        version: sql`pair_availability.version + 1`,
        changed_at: new Date(),
      }),
    )
    .execute();
}

/** What the target's carts may sell of the source right now, with the version it is as of. */
export async function readPairAvailability(db: Kysely<Database>, pair: Pair): Promise<PairAvailability> {
  const { sourceClientId, targetClientId } = pair;
  // One snapshot: version, verdict and offers read in one statement.
  const row = await sql<{ version: string | null; available: boolean; shared: string[] | null }>`
    select
      (select version from pair_availability where source_client_id = ${sourceClientId} and target_client_id = ${targetClientId}) as version,
      exists (select 1 from available_pairs where source_client_id = ${sourceClientId} and target_client_id = ${targetClientId}) as available,
      (select array_agg(o.id::text order by o.id) from offers o join offer_targets t on t.offer_id = o.id
        where o.owner_client_id = ${sourceClientId} and o.cross_client and t.target_client_id = ${targetClientId}) as shared
  `.execute(db);
  const r = row.rows[0]!;
  return { sourceClientId, targetClientId, version: Number(r.version ?? 0), available: r.available, sharedOfferIds: r.shared ?? [] };
}

/** A pair with its versions, as the dispatch sees it. */
export interface PairVersion extends Pair {
  version: number;
  toldVersion: number;
}

const toPairVersion = (r: { source_client_id: string; target_client_id: string; version: string; told_version: string }): PairVersion => ({
  sourceClientId: r.source_client_id,
  targetClientId: r.target_client_id,
  version: Number(r.version),
  toldVersion: Number(r.told_version),
});

/** Of the given pairs, those whose carts have not been told their latest version (no row: nothing to tell). */
export async function findUntoldPairs(db: Kysely<Database>, pairs: readonly Pair[]): Promise<PairVersion[]> {
  const found: PairVersion[] = [];
  // A thousand pairs per statement keeps far below Postgres's 65,535 parameters.
  for (let i = 0; i < pairs.length; i += 1000) {
    const chunk = pairs.slice(i, i + 1000);
    const rows = await db
      .selectFrom('pair_availability')
      .select(['source_client_id', 'target_client_id', 'version', 'told_version'])
      .where((eb) => eb(eb.refTuple('source_client_id', 'target_client_id'), 'in', chunk.map((p) => eb.tuple(p.sourceClientId, p.targetClientId))))
      .whereRef('version', '>', 'told_version')
      .execute();
    found.push(...rows.map(toPairVersion));
  }
  return found;
}

/**
 * The outbox: pairs with a version their carts have not been told, changed at least `minAgeMs`
 * ago (younger ones are being started by whoever changed them), oldest first, at most `limit`.
 */
export async function listUntoldPairs(db: Kysely<Database>, options: { minAgeMs: number; limit: number }): Promise<PairVersion[]> {
  const rows = await db
    .selectFrom('pair_availability')
    .select(['source_client_id', 'target_client_id', 'version', 'told_version'])
    .whereRef('version', '>', 'told_version')
    .where('changed_at', '<', sql<Date>`now() - make_interval(secs => ${options.minAgeMs / 1000})`)
    .orderBy('changed_at')
    .orderBy('source_client_id')
    .orderBy('target_client_id')
    .limit(options.limit)
    .execute();
  return rows.map(toPairVersion);
}

/** A fan-out told every cart of the pair this version: never moves told_version backwards. */
export async function markPairTold(db: Kysely<Database>, pair: Pair, version: number): Promise<void> {
  await db
    .updateTable('pair_availability')
    .set({ told_version: sql`greatest(told_version, ${version})` })
    .where('source_client_id', '=', pair.sourceClientId)
    .where('target_client_id', '=', pair.targetClientId)
    .execute();
}

/**
 * Marks `version` told when the pair has no cart to tell (none holds offers of the source, or all
 * are archived) — most pairs — so no fan-out workflow runs for nothing. Safe after the change's
 * commit: a cart whose sources are not visible yet records them first and reads availability
 * after, so it reads this version itself (docs/architecture.md "Availability", step 4). Returns
 * whether it marked.
 */
export async function markToldIfNoCarts(db: Kysely<Database>, pair: Pair, version: number): Promise<boolean> {
  const marked = await db
    .updateTable('pair_availability')
    .set({ told_version: sql`greatest(told_version, ${version})` })
    .where('source_client_id', '=', pair.sourceClientId)
    .where('target_client_id', '=', pair.targetClientId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('cart_sources as cs')
            .innerJoin('carts as c', 'c.id', 'cs.cart_id')
            .select(sql`1`.as('one'))
            .where('cs.source_client_id', '=', pair.sourceClientId)
            .where('cs.seller_client_id', '=', pair.targetClientId)
            .where('c.status', '<>', 'archived'),
        ),
      ),
    )
    .returning('version')
    .executeTakeFirst();
  return marked !== undefined;
}

/** One cart holding offers of the pair's source, sold by the pair's target. */
export interface PairCart {
  cartId: string;
  workflowId: string;
}

/** The pair's carts that are not archived, keyset-paged on cart id; `after` is the last id of the previous page. */
export async function listCartsOfPair(db: Kysely<Database>, pair: Pair, page: { after?: string | undefined; limit: number }): Promise<PairCart[]> {
  let q = db
    .selectFrom('cart_sources as cs')
    .innerJoin('carts as c', 'c.id', 'cs.cart_id')
    .select(['cs.cart_id as cartId', 'cs.workflow_id as workflowId'])
    .where('cs.source_client_id', '=', pair.sourceClientId)
    .where('cs.seller_client_id', '=', pair.targetClientId)
    .where('c.status', '<>', 'archived');
  if (page.after !== undefined) q = q.where('cs.cart_id', '>', page.after);
  return q.orderBy('cs.cart_id').limit(page.limit).execute();
}

const FINAL = [...FINAL_STATUSES];

/**
 * The pairs a module switch of the company may change: every non-final connection whose source or
 * target is a client of the company (docs/architecture.md "Availability").
 */
export async function listOpenPairsOfCompany(db: Kysely<Database>, contractingCompanyId: string): Promise<Pair[]> {
  return db
    .selectFrom('connections as c')
    .innerJoin('clients as s', 's.id', 'c.source_client_id')
    .leftJoin('clients as t', 't.id', 'c.target_client_id')
    .select(['c.source_client_id as sourceClientId', 'c.target_client_id as targetClientId'])
    .distinct()
    .where('c.status', 'not in', FINAL)
    .where((eb) => eb.or([eb('s.contracting_company_id', '=', contractingCompanyId), eb('t.contracting_company_id', '=', contractingCompanyId)]))
    .execute();
}

/**
 * One page of the non-final connections touching a company (what a module fan-out signals), keyset
 * on connection id. Lives here rather than in connection.repository.ts so that file keeps one owner;
 * it is the paged form of `listOpenConnectionsOfCompany` there.
 */
export async function pageOpenConnectionsOfCompany(
  db: Kysely<Database>,
  contractingCompanyId: string,
  page: { after?: string | undefined; limit: number },
): Promise<{ connectionId: string; workflowId: string }[]> {
  let q = db
    .selectFrom('connections as c')
    .innerJoin('clients as s', 's.id', 'c.source_client_id')
    .leftJoin('clients as t', 't.id', 'c.target_client_id')
    .select(['c.id as connectionId', 'c.workflow_id as workflowId'])
    .where('c.status', 'not in', FINAL)
    .where((eb) => eb.or([eb('s.contracting_company_id', '=', contractingCompanyId), eb('t.contracting_company_id', '=', contractingCompanyId)]));
  if (page.after !== undefined) q = q.where('c.id', '>', page.after);
  return q.orderBy('c.id').limit(page.limit).execute();
}
