/**
 * Activities of the fan-outs (docs/architecture.md "Availability"): the pair's payload, one page
 * of carts signalled through the Temporal client, the pair marked told — and the module fan-out's
 * page of connections, signalled the same way. Signalling from an activity keeps a fan-out's
 * history at a constant number of events per page instead of two per recipient.
 *
 * Every activity here is idempotent: a retried page signals its workflows again, which they
 * ignore (carts keep the highest version, connections the highest module revision).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Kysely } from 'kysely';
import {
  listCartsOfPair,
  markPairTold,
  pageOpenConnectionsOfCompany,
  readPairAvailability,
  type Pair,
} from '../db/availability.repository.ts';
import type { Database } from '../db/schema.ts';
import type { PairAvailability } from '../domain/availability.ts';
import { availabilitySignal } from '../workflows/cart.messages.ts';
import { modulesChangedSignal, type ModulesChangedSignal } from '../workflows/messages.ts';

export interface AvailabilityActivityDeps {
  db: Kysely<Database>;
  temporal: { client: Client; taskQueue: string };
}

/** Signals in flight at once per page. */
export const SIGNAL_CONCURRENCY = 32;

export interface SignalPage {
  signalled: number;
  /** Recipients whose workflow was closed or not found. */
  skipped: number;
  /** The last id of this page when more may follow; null when this was the last page. */
  nextCursor: string | null;
}

export function createAvailabilityActivities({ db, temporal }: AvailabilityActivityDeps) {
  /** Signals each workflow; closed or unknown ones are skipped; any other failure fails the page (retried). */
  async function signalAll<Args extends unknown[]>(workflowIds: string[], signal: SignalDefinition<Args>, args: Args): Promise<{ signalled: number; skipped: number }> {
    let signalled = 0;
    let skipped = 0;
    let failure: unknown;
    await mapLimit(workflowIds, SIGNAL_CONCURRENCY, async (workflowId, i) => {
      try {
        await temporal.client.workflow.getHandle(workflowId).signal(signal, ...args);
        signalled += 1;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) skipped += 1;
        else failure ??= err;
      }
      heartbeat(i + 1); // throttled by the SDK
    });
    if (failure !== undefined) throw failure;
    return { signalled, skipped };
  }

  return {
    /** What the target's carts may sell of the source now: read once per fan-out. */
    async readPairAvailability(pair: Pair): Promise<PairAvailability> {
      return readPairAvailability(db, pair);
    },

    /** One page of the pair's carts (keyset on cart id), each signalled `availability` with the payload. */
    async signalPairCartsPage(input: { payload: PairAvailability; after?: string | undefined; limit: number }): Promise<SignalPage> {
      const { payload } = input;
      const pair = { sourceClientId: payload.sourceClientId, targetClientId: payload.targetClientId };
      const carts = await listCartsOfPair(db, pair, { after: input.after, limit: input.limit + 1 });
      const page = carts.slice(0, input.limit);
      const counts = await signalAll(
        page.map((c) => c.workflowId),
        availabilitySignal,
        [payload],
      );
      return { ...counts, nextCursor: carts.length > input.limit ? page[page.length - 1]!.cartId : null };
    },

    /** Every cart of the pair has been told `version`: told_version = greatest(told_version, version). */
    async markPairTold(input: Pair & { version: number }): Promise<void> {
      await markPairTold(db, input, input.version);
    },

    /** One page of the company's open connections (keyset on connection id), each signalled `modulesChanged`. */
    async signalCompanyConnectionsPage(input: { signal: ModulesChangedSignal; after?: string | undefined; limit: number }): Promise<SignalPage> {
      const rows = await pageOpenConnectionsOfCompany(db, input.signal.contractingCompanyId, { after: input.after, limit: input.limit + 1 });
      const page = rows.slice(0, input.limit);
      const counts = await signalAll(
        page.map((c) => c.workflowId),
        modulesChangedSignal,
        [input.signal],
      );
      return { ...counts, nextCursor: rows.length > input.limit ? page[page.length - 1]!.connectionId : null };
    },
  };
}

export type AvailabilityActivities = ReturnType<typeof createAvailabilityActivities>;

/** Heartbeats when run as an activity (a dead worker is noticed); a no-op when called directly. */
function heartbeat(details: unknown): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
