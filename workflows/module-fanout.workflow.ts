/**
 * A contract module was switched on or off: tell every open connection of the contracting company
 * (docs/architecture.md "Workflows"). Short-lived; one run per switch (more for big companies).
 *
 * Connections are paged by an activity that signals the whole page through the Temporal client
 * (a constant number of history events per page, not two per connection), with continue-as-new
 * every `pagesPerRun` pages. Runs started before paging (no `module-fanout-paged` marker in their
 * history) keep the old shape: one listing, one signal per connection from workflow code.
 */
import { continueAsNew, getExternalWorkflowHandle, patched, proxyActivities } from '@temporalio/workflow';
import type { createAvailabilityActivities } from '../activities/availability.activities.ts';
import type { createConnectionActivities } from '../activities/connection.activities.ts';
import { activityPresets } from '../temporal.config.ts';
import { modulesChangedSignal, type ModuleFanoutInput, type ModulesChangedSignal } from './messages.ts';

export const MODULE_FANOUT_PAGE_SIZE = 500;
export const MODULE_FANOUT_PAGES_PER_RUN = 20;

/** The input of a run: the switch, plus paging state carried by continue-as-new. */
export interface ModuleFanoutRunInput extends ModuleFanoutInput {
  /** The last connection id an earlier run signalled (set by continue-as-new). */
  cursor?: string;
  /** Connections per page (default 500). */
  pageSize?: number;
  /** Pages per run before continue-as-new (default 20). */
  pagesPerRun?: number;
  /** Connections signalled by earlier runs (set by continue-as-new). */
  signalled?: number;
}

const store = proxyActivities<ReturnType<typeof createConnectionActivities>>(activityPresets.database);
/** A page signals up to pageSize connections: a longer deadline, heartbeats so a dead worker is noticed. */
const signaller = proxyActivities<ReturnType<typeof createAvailabilityActivities>>({
  ...activityPresets.database,
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
});

export async function moduleFanoutWorkflow(input: ModuleFanoutRunInput): Promise<{ signalled: number }> {
  const signal: ModulesChangedSignal = { contractingCompanyId: input.contractingCompanyId, active: input.active, revision: input.revision };
  if (!patched('module-fanout-paged')) return signalEachFromWorkflow(signal);

  const pageSize = Math.max(1, input.pageSize ?? MODULE_FANOUT_PAGE_SIZE);
  const pagesPerRun = Math.max(1, input.pagesPerRun ?? MODULE_FANOUT_PAGES_PER_RUN);
  let signalled = input.signalled ?? 0;
  let cursor = input.cursor;
  for (let pages = 0; ; pages++) {
    if (pages === pagesPerRun) return continueAsNew<typeof moduleFanoutWorkflow>({ ...input, cursor, signalled });
    const page = await signaller.signalCompanyConnectionsPage({ signal, after: cursor, limit: pageSize });
    signalled += page.signalled;
    if (page.nextCursor === null) return { signalled };
    cursor = page.nextCursor;
  }
}

/** The shape before paging, kept for runs whose history has no `module-fanout-paged` marker. */
async function signalEachFromWorkflow(signal: ModulesChangedSignal): Promise<{ signalled: number }> {
  const connections = await store.listConnectionsOfCompany({ contractingCompanyId: signal.contractingCompanyId });
  let signalled = 0;
  for (const { workflowId } of connections) {
    try {
      await getExternalWorkflowHandle(workflowId).signal(modulesChangedSignal, signal);
      signalled += 1;
    } catch {
      // The connection closed in the meantime: nothing left to tell.
    }
  }
  return { signalled };
}
