/**
 * The worker: workflow bundle + activities on one task queue. Stateless; run as many as you like
 * against the same Temporal cluster and Postgres (docs/architecture.md "Embedded defaults and scale-out").
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { Client } from '@temporalio/client';
import { startPairFanouts, type FanoutDispatchOptions } from '../activities/availability.dispatch.ts';
import { permanentDatabaseErrors } from '../activities/database-errors.ts';
import { createActivities } from '../activities/index.ts';
import { startModuleFanouts } from '../activities/module.dispatch.ts';
import type { Database } from '../db/schema.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const preloadPath = fileURLToPath(new URL('../workflows/preload.ts', import.meta.url));

/** Bundles the workflow code once (webpack; a few seconds). Node-only modules stay out of the sandbox. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    // temporal.config.ts reads env-config profiles for callers; workflows only use its constants.
    ignoreModules: ['@temporalio/envconfig'],
    // The worker reuses one V8 context and evaluates the bundle's modules afresh for every new
    // workflow run, which made zod's and the CEL library's set-up ~40 % of the workflow thread's
    // time under purchase load (every purchase is a new run; measured with BENCH_CPU_PROF=1).
    // Preloaded (workflows/preload.ts), they are evaluated once and shared, their exports
    // deep-frozen by the SDK. Both are stateless libraries: no per-workflow state, and nothing here
    // mutates their exports (test/rules/sandbox.test.ts and the replay tests run on this bundle).
    preloadModules: [preloadPath],
    logger: new DefaultLogger('WARN'),
  });
}

/** Around every activity: database errors that retrying cannot fix fail the attempt for good. */
export const activityInterceptors = { activity: [permanentDatabaseErrors] };

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Kysely<Database>;
  /** The client activities use to signal or update other workflows. */
  client: Client;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Stable per process in production; tests set it to tell workers apart. */
  identity?: string;
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities({ db: deps.db, temporal: { client: deps.client, taskQueue: deps.taskQueue } }),
    interceptors: activityInterceptors,
    // A killed worker's cached workflows get their next task elsewhere after 3 s (default 10 s).
    stickyQueueScheduleToStartTimeout: '3 seconds',
    ...(deps.identity ? { identity: deps.identity } : {}),
  });
}

export interface FanoutRelay {
  /** Ends the loop; resolves once a pass in flight has finished. */
  stop(): Promise<void>;
}

/**
 * The relay (docs/architecture.md "Availability"): every `intervalMs` it starts the fan-out of each
 * pair whose carts were not told its latest version, and of each module switch whose connections
 * were not told — a start lost between a commit and Temporal (crash, Temporal unreachable) is
 * retried here. Errors are logged, never fatal. Any number of worker processes may run it: starts
 * of one version (one revision) converge on one workflow.
 */
export function startFanoutRelay(
  deps: { db: Kysely<Database>; client: Client; taskQueue: string; intervalMs: number; options?: FanoutDispatchOptions },
  log: (message: string) => void = console.log,
): FanoutRelay {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const run = async () => {
    try {
      const switches = await startModuleFanouts(deps, undefined, { minAgeMs: deps.options?.minAgeMs });
      const failed = switches.filter((s) => s.outcome === 'failed');
      if (failed.length > 0) log(`fan-out relay: ${failed.length} module switch(es) not told yet (retried next pass): ${String(failed[0]!.error)}`);
    } catch (err) {
      log(`fan-out relay: ${err instanceof Error ? err.message : String(err)} (retried next pass)`);
    }
    try {
      const starts = await startPairFanouts(deps, undefined, deps.options);
      const failed = starts.filter((s) => s.outcome === 'failed');
      if (failed.length > 0) log(`fan-out relay: ${failed.length} of ${starts.length} starts failed (retried next pass): ${String(failed[0]!.error)}`);
    } catch (err) {
      log(`fan-out relay: ${err instanceof Error ? err.message : String(err)} (retried next pass)`);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = run().finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
