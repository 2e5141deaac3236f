/**
 * Availability of a source's offers to a target (docs/architecture.md "Availability"). The truth is
 * computed from the read model (view `available_pairs`, offers and their targets); the
 * `pair_availability` row versions it and serves as the outbox of the fan-out that tells carts.
 */
import { sql, type Kysely } from 'kysely';
import type { PairAvailability } from '../domain/availability.ts';
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
