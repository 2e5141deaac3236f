/**
 * Starts the fan-outs that tell connections about a module switch (docs/architecture.md
 * "Workflows"). "Database first, then Temporal" through an outbox: the switch bumps the module's
 * revision in its transaction; right after the commit the API calls `startModuleFanouts(deps,
 * {contractingCompanyId})`, and the worker's relay calls it every few seconds for switches still
 * untold — so a switch made while Temporal was out of reach still reaches its connections.
 *
 * The workflow id names the revision (`modules:<company>:<module>:<revision>`): the API and the
 * relay converge on one fan-out per switch (USE_EXISTING), a finished one is not started again,
 * and one that failed is (ALLOW_DUPLICATE_FAILED_ONLY). Connections keep the highest revision they
 * saw, so telling only the newest untold switch of a module is enough.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { listUntoldSwitches, markSwitchTold, type ModuleSwitch } from '../db/company.repository.ts';
import type { Database } from '../db/schema.ts';
import { CROSS_CLIENT_MODULE } from '../domain/connection.ts';
import type { ModuleFanoutInput } from '../workflows/messages.ts';
import { moduleFanoutWorkflow } from '../workflows/module-fanout.workflow.ts';

export interface ModuleDispatchDeps {
  db: Kysely<Database>;
  client: Client;
  taskQueue: string;
}

export interface ModuleStart extends ModuleSwitch {
  workflowId: string;
  outcome: 'started' | 'done' | 'failed';
  error?: unknown;
}

export const moduleFanoutWorkflowId = (s: Pick<ModuleSwitch, 'contractingCompanyId' | 'module' | 'revision'>) =>
  `modules:${s.contractingCompanyId}:${s.module}:${s.revision}`;

/**
 * Starts the fan-out of the untold switch of one company (API, after its commit) or of the oldest
 * untold switches (relay). Never throws for a failed start (the result says so; the relay
 * retries); throws only when the database cannot be read.
 */
export async function startModuleFanouts(
  deps: ModuleDispatchDeps,
  only?: { contractingCompanyId: string },
  options: { minAgeMs?: number; limit?: number; startDeadlineMs?: number } = {},
): Promise<ModuleStart[]> {
  // Only this module is known to connections; the signal carries no module name.
  const untold = await listUntoldSwitches(deps.db, CROSS_CLIENT_MODULE, only ?? { minAgeMs: options.minAgeMs ?? 5_000, limit: options.limit ?? 100 });
  const starts: ModuleStart[] = [];
  for (const s of untold) {
    const workflowId = moduleFanoutWorkflowId(s);
    const input: ModuleFanoutInput = { contractingCompanyId: s.contractingCompanyId, module: s.module, active: s.active, revision: s.revision };
    let outcome: ModuleStart['outcome'] = 'started';
    try {
      await deps.client.withDeadline(Date.now() + (options.startDeadlineMs ?? 4_000), () =>
        deps.client.workflow.start(moduleFanoutWorkflow, {
          taskQueue: deps.taskQueue,
          workflowId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          staticSummary: `${s.module} switched ${s.active ? 'on' : 'off'} for ${s.contractingCompanyId} (revision ${s.revision})`,
        }),
      );
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        starts.push({ ...s, workflowId, outcome: 'failed', error });
        continue;
      }
      outcome = 'done'; // it ran to completion already
    }
    await markSwitchTold(deps.db, s);
    starts.push({ ...s, workflowId, outcome });
  }
  return starts;
}
