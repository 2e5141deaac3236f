/**
 * What a lifecycle costs Temporal: history events (historyLength of a sample of the round's
 * workflows), and for one workflow its event types and round trips (workflow tasks, activities,
 * local-activity markers, updates).
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { median } from './stats.ts';

const EventType = proto.temporal.api.enums.v1.EventType;

/** When an event happened, in milliseconds. */
const ms = (e: proto.temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

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
  const eventBytes = (history.events ?? []).map((e) => proto.temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
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
    workflowTaskMs: workflowTaskTimings(history.events ?? []),
    types,
    /** Each event's encoded size, in the order of `types`. */
    eventBytes,
  };
}

/**
 * How long its workflow tasks waited for a worker (scheduled → started) and took there (started →
 * completed), medians in ms: where a busy workflow's updates spend their time, and why they are
 * batched into fewer tasks on one stack than on another.
 */
function workflowTaskTimings(events: proto.temporal.api.history.v1.IHistoryEvent[]) {
  const waits: number[] = [];
  const runs: number[] = [];
  let scheduled: number | undefined;
  let started: number | undefined;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduled = ms(e);
    else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
      started = ms(e);
      if (scheduled !== undefined) waits.push(started - scheduled);
    } else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && started !== undefined) runs.push(ms(e) - started);
  }
  const tenths = (x: number) => Math.round(x * 10) / 10;
  return { toStart: tenths(median(waits)), toComplete: tenths(median(runs)) };
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

/**
 * Median milliseconds between consecutive events of workflows of one shape (same event types in
 * the same order): where a purchase's time goes, step by step, to compare two stacks side by side.
 */
export async function stepTimings(client: Client, workflowIds: string[], sample = 20) {
  const step = Math.max(1, Math.floor(workflowIds.length / sample));
  const picked = workflowIds.filter((_, i) => i % step === 0).slice(0, sample);
  const histories = await Promise.all(picked.map((id) => client.workflow.getHandle(id).fetchHistory()));
  const first = histories[0]?.events ?? [];
  const same = histories.filter((h) => h.events?.length === first.length && h.events.every((e, n) => e.eventType === first[n]!.eventType));
  return first.slice(1).map((e, n) => ({
    step: String(EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''),
    ms: Math.round(median(same.map((h) => ms(h.events![n + 1]!) - ms(h.events![n]!))) * 10) / 10,
  }));
}
