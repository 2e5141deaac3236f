/**
 * Tells every cart of a (source, target) pair what the target may sell of the source now
 * (docs/architecture.md "Availability"). Id `availability:<source>:<target>:<version>`, started by
 * the dispatch right after a change commits and by the relay for pairs left untold.
 *
 * The payload is read once (the first run) and carried through continue-as-new; carts are paged
 * by an activity that signals the whole page through the Temporal client, so a run's history costs
 * a constant number of events per page (about six), never per cart. At the end the pair's
 * told_version is raised to the payload's version. Duplicates and reordering are harmless: a cart
 * ignores a version lower than one it has seen.
 */
import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createAvailabilityActivities } from '../activities/availability.activities.ts';
import type { PairAvailability } from '../domain/availability.ts';
import type { ClientId } from '../domain/connection.ts';
import { activityPresets } from '../temporal.config.ts';

export const AVAILABILITY_FANOUT_PAGE_SIZE = 500;
export const AVAILABILITY_FANOUT_PAGES_PER_RUN = 20;

export const availabilityFanoutWorkflowId = (source: ClientId, target: ClientId, version: number): string =>
  `availability:${source}:${target}:${version}`;

export interface AvailabilityFanoutInput {
  sourceClientId: ClientId;
  targetClientId: ClientId;
  /** The last cart id an earlier run told (set by continue-as-new). */
  cursor?: string;
  /** Read by the first run and carried by continue-as-new, so every cart gets the same one. */
  payload?: PairAvailability;
  /** Carts per page (default 500). */
  pageSize?: number;
  /** Pages per run before continue-as-new (default 20). */
  pagesPerRun?: number;
  /** Totals of earlier runs (set by continue-as-new). */
  progress?: AvailabilityFanoutResult;
}

export interface AvailabilityFanoutResult {
  /** The version every cart of the pair was told (told_version is at least this now). */
  version: number;
  signalled: number;
  /** Carts whose workflow was closed or not found. */
  skipped: number;
  runs: number;
}

type Activities = ReturnType<typeof createAvailabilityActivities>;
const store = proxyActivities<Activities>(activityPresets.database);
/** A page signals up to pageSize carts: a longer deadline, heartbeats so a dead worker is noticed. */
const signaller = proxyActivities<Activities>({ ...activityPresets.database, startToCloseTimeout: '5 minutes', heartbeatTimeout: '30 seconds' });

export async function availabilityFanoutWorkflow(input: AvailabilityFanoutInput): Promise<AvailabilityFanoutResult> {
  const pair = { sourceClientId: input.sourceClientId, targetClientId: input.targetClientId };
  const pageSize = Math.max(1, input.pageSize ?? AVAILABILITY_FANOUT_PAGE_SIZE);
  const pagesPerRun = Math.max(1, input.pagesPerRun ?? AVAILABILITY_FANOUT_PAGES_PER_RUN);
  const payload = input.payload ?? (await store.readPairAvailability(pair));
  const progress = input.progress ?? { version: payload.version, signalled: 0, skipped: 0, runs: 0 };
  progress.runs += 1;

  let cursor = input.cursor;
  for (let pages = 0; ; pages++) {
    if (pages === pagesPerRun) {
      return continueAsNew<typeof availabilityFanoutWorkflow>({ ...input, payload, cursor, progress });
    }
    const page = await signaller.signalPairCartsPage({ payload, after: cursor, limit: pageSize });
    progress.signalled += page.signalled;
    progress.skipped += page.skipped;
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  await store.markPairTold({ ...pair, version: payload.version });
  return progress;
}
