/**
 * A contract module was switched on or off: tell every open connection of the contracting company
 * (docs/architecture.md "Workflows"). Short-lived; one run per switch.
 */
import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import type { createConnectionActivities } from '../activities/connection.activities.ts';
import { activityPresets } from '../temporal.config.ts';
import { modulesChangedSignal, type ModuleFanoutInput } from './messages.ts';

const store = proxyActivities<ReturnType<typeof createConnectionActivities>>(activityPresets.database);

export async function moduleFanoutWorkflow(input: ModuleFanoutInput): Promise<{ signalled: number }> {
  const connections = await store.listConnectionsOfCompany({ contractingCompanyId: input.contractingCompanyId });
  let signalled = 0;
  for (const { workflowId } of connections) {
    try {
      await getExternalWorkflowHandle(workflowId).signal(modulesChangedSignal, {
        contractingCompanyId: input.contractingCompanyId,
        active: input.active,
        revision: input.revision,
      });
      signalled += 1;
    } catch {
      // The connection closed in the meantime: nothing left to tell.
    }
  }
  return { signalled };
}
