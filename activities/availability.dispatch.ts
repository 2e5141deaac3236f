/**
 * Starts the fan-outs that tell carts about a pair's new availability (docs/architecture.md
 * "Availability"). "Database first, then Temporal": a change bumps pair_availability.version in its
 * own transaction; right after the commit the changer calls `startPairFanouts(deps, pairs)` (best
 * effort), and the relay in the worker process calls `startPairFanouts(deps)` every few seconds for
 * pairs still untold, so a lost start is retried.
 *
 * Each start names the version it is for (`availability:<source>:<target>:<version>`) with conflict
 * policy USE_EXISTING and reuse policy ALLOW_DUPLICATE_FAILED_ONLY: duplicate dispatches of one
 * version converge on one fan-out, a completed one is not started again, and one that failed,
 * timed out or was terminated is started again by the relay (its pair is still untold).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { findUntoldPairs, listUntoldPairs, markToldIfNoCarts, type Pair, type PairVersion } from '../db/availability.repository.ts';
import type { Database } from '../db/schema.ts';
import { mapLimit } from './availability.activities.ts';
import { availabilityFanoutWorkflow, availabilityFanoutWorkflowId, type AvailabilityFanoutInput } from '../workflows/availability-fanout.workflow.ts';

export interface FanoutDispatchDeps {
  db: Kysely<Database>;
  client: Client;
  taskQueue: string;
}

export interface FanoutDispatchOptions {
  /** Relay only: leave pairs changed less than this long ago to whoever changed them (default 5 s). */
  minAgeMs?: number;
  /** Relay only: pairs per call, oldest first (default 200). */
  limit?: number;
  /** Starts in flight at once (default 16). */
  concurrency?: number;
  /** Deadline of each start (default 4 s). */
  startDeadlineMs?: number;
  /** Page size and pages per run of the fan-outs started (tests lower them). */
  fanout?: Pick<AvailabilityFanoutInput, 'pageSize' | 'pagesPerRun'>;
}

export interface FanoutStart extends PairVersion {
  workflowId: string;
  /** started: running now (new, or already); done: it had finished, or no cart needed telling; failed: see error (the relay retries). */
  outcome: 'started' | 'done' | 'failed';
  error?: unknown;
}

export const RELAY_MIN_AGE_MS = 5_000;
export const RELAY_BATCH = 200;

/**
 * Starts the fan-out of each given pair that has a version its carts were not told, or — without
 * `pairs` — of the oldest untold pairs (the relay). Never throws for a failed start (the result says
 * so; the relay retries); throws only when the database cannot be read.
 */
export async function startPairFanouts(deps: FanoutDispatchDeps, pairs?: readonly Pair[], options: FanoutDispatchOptions = {}): Promise<FanoutStart[]> {
  const untold =
    pairs === undefined
      ? await listUntoldPairs(deps.db, { minAgeMs: options.minAgeMs ?? RELAY_MIN_AGE_MS, limit: options.limit ?? RELAY_BATCH })
      : await findUntoldPairs(deps.db, uniquePairs(pairs));
  const deadlineMs = options.startDeadlineMs ?? 4_000;
  return mapLimit(untold, options.concurrency ?? 16, async (pair): Promise<FanoutStart> => {
    const workflowId = availabilityFanoutWorkflowId(pair.sourceClientId, pair.targetClientId, pair.version);
    const input: AvailabilityFanoutInput = { sourceClientId: pair.sourceClientId, targetClientId: pair.targetClientId, ...options.fanout };
    try {
      // No cart to tell (most pairs): told without a workflow — a fan-out costs a start and a
      // handful of Temporal round trips, per transition.
      if (await markToldIfNoCarts(deps.db, pair, pair.version)) return { ...pair, workflowId, outcome: 'done' };
      await deps.client.withDeadline(Date.now() + deadlineMs, () =>
        deps.client.workflow.start(availabilityFanoutWorkflow, {
          taskQueue: deps.taskQueue,
          workflowId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          staticSummary: `availability of ${pair.sourceClientId} for ${pair.targetClientId}, version ${pair.version}`,
        }),
      );
      // New, or (USE_EXISTING) the fan-out of this version running already: the client does not say which.
      return { ...pair, workflowId, outcome: 'started' };
    } catch (error) {
      // A completed fan-out of this version: its carts were told (or a newer version's will be).
      if (error instanceof WorkflowExecutionAlreadyStartedError) return { ...pair, workflowId, outcome: 'done' };
      // Postgres unreachable for the check: the relay tries again (the pair stays untold).
      return { ...pair, workflowId, outcome: 'failed', error };
    }
  });
}

function uniquePairs(pairs: readonly Pair[]): Pair[] {
  return [...new Map(pairs.map((p) => [`${p.sourceClientId}:${p.targetClientId}`, p])).values()];
}
