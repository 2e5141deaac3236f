/**
 * What a lifecycle costs Temporal: history events (historyLength of a sample of the round's
 * workflows), and for one workflow its event types and round trips (workflow tasks, activities,
 * local-activity markers, updates).
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { median } from './stats.ts';

const EventType = proto.temporal.api.enums.v1.EventType;

export async function sampleHistories(client: Client, workflowIds: string[], sample = 5) {
  const step = Math.max(1, Math.floor(workflowIds.length / sample));
  const picked = workflowIds.filter((_, i) => i % step === 0).slice(0, sample);
  const described = await Promise.all(picked.map((id) => client.workflow.getHandle(id).describe()));
  const lengths = described.map((d) => d.historyLength);
  const statuses: Record<string, number> = {};
  for (const d of described) statuses[d.status.name] = (statuses[d.status.name] ?? 0) + 1;
  return { median: median(lengths), lengths, statuses, workflowIds: picked };
}

export async function eventTypesOf(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const types = (history.events ?? []).map((e) => String(EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''));
  const count = (t: string) => types.filter((x) => x === t).length;
  return {
    workflowId,
    events: types.length,
    /** What the dev server stores and serves for it: the history's encoded size. */
    bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
    workflowTasks: count('WORKFLOW_TASK_COMPLETED'),
    activities: count('ACTIVITY_TASK_SCHEDULED'),
    localActivityMarkers: count('MARKER_RECORDED'),
    updates: count('WORKFLOW_EXECUTION_UPDATE_ACCEPTED'),
    types,
  };
}

/** Workflows of other types a round started on a task queue (fan-outs, mail children), if visibility can count them. */
export async function otherWorkflowsStarted(client: Client, taskQueue: string, mainType: string, since: Date): Promise<number | null> {
  try {
    const { count } = await client.workflow.count(`TaskQueue = '${taskQueue}' AND WorkflowType != '${mainType}' AND StartTime >= '${since.toISOString()}'`);
    return count;
  } catch {
    return null;
  }
}
