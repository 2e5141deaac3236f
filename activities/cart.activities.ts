/**
 * Activities of the cart workflow. The workflow imports only `typeof` the object returned here.
 */
import type { Kysely } from 'kysely';
import type { PairAvailability } from '../domain/availability.ts';
import type { CartView } from '../domain/cart.ts';
import { readPairAvailability } from '../db/availability.repository.ts';
import { recordCart } from '../db/cart.repository.ts';
import { appendEvents } from '../db/event.repository.ts';
import { cartEvent } from '../domain/event.ts';
import type { Database } from '../db/schema.ts';

export function createCartActivities({ db }: { db: Kysely<Database> }) {
  return {
    /**
     * The read-model row, the cart's sources and its change-feed event together; stale versions
     * are ignored (and make no event).
     */
    async recordCartTransition({ view }: { view: CartView }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (await recordCart(trx, view)) await appendEvents(trx, [cartEvent(view)]);
      });
    },

    /**
     * What the seller may sell of each source now. Called after the cart's sources are recorded,
     * so a change after this read reaches the cart through the pair's fan-out.
     */
    async loadCartAvailability(input: { sellerClientId: string; sourceClientIds: string[] }): Promise<PairAvailability[]> {
      return Promise.all(input.sourceClientIds.map((s) => readPairAvailability(db, { sourceClientId: s, targetClientId: input.sellerClientId })));
    },
  };
}

export type CartActivities = ReturnType<typeof createCartActivities>;
