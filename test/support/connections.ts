import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { connectionWorkflowId, invitationUpdate, type ConnectionWorkflowInput } from '../../workflows/messages.ts';
import { type ConnectionView } from '../../domain/connection.ts';
import type { connectionWorkflow } from '../../workflows/connection.workflow.ts';
import type { TestEngine } from './engine.ts';

/** Starts a connection workflow the way a caller going to Temporal directly would. */
export async function invite(
  engine: TestEngine,
  input: Omit<ConnectionWorkflowInput, 'connectionId'> & { connectionId?: string },
): Promise<{ handle: WorkflowHandle<typeof connectionWorkflow>; view: ConnectionView }> {
  const connectionId = input.connectionId ?? randomUUID();
  const handle = await engine.client.workflow.start<typeof connectionWorkflow>('connectionWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: connectionWorkflowId(input.sourceClientId, input.targetClientId),
    workflowIdConflictPolicy: 'FAIL',
    args: [{ ...input, connectionId }],
  });
  const view = await handle.executeUpdate(invitationUpdate, { args: [{ connectionId }] });
  return { handle, view };
}
