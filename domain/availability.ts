/**
 * What the carts of a target may sell of one source, as of a version (docs/architecture.md
 * "Availability"). Sent to every cart holding offers of the source by the pair's fan-out, and read
 * once by a new cart; a cart keeps the highest version per source and ignores older ones.
 */
import type { ClientId } from './connection.ts';

export interface PairAvailability {
  sourceClientId: ClientId;
  targetClientId: ClientId;
  /** pair_availability.version when this was read; increases with every relevant change. */
  version: number;
  /** The connection is active, offer access on, the module on for every company involved. */
  available: boolean;
  /** The source's cross-client offers shared with the target right now (whatever `available`). */
  sharedOfferIds: string[];
}

/** Whether an external offer of the source can be sold by the target under this availability. */
export const offerAvailable = (pair: PairAvailability | undefined, offerId: string): boolean =>
  pair !== undefined && pair.available && pair.sharedOfferIds.includes(offerId);
