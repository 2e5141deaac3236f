/**
 * The Temporal cost of a standard lifecycle and of a purchase, pinned: the history events of each,
 * by type and in order. Round trips and history writes are what a lifecycle costs on a busy
 * server (docs/performance.md), so a change that adds one has to change this file and is seen in
 * review. Not a timing assertion: the events are deterministic for runs that meet no retry.
 */
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { buildWorld, type World } from '../support/world.ts';
import { purchaseWorkflowId, type PurchaseWorkflowInput } from '../../workflows/purchase.messages.ts';
import { purchaseWorkflow } from '../../workflows/purchase.workflow.ts';

let stack: TestStack;
let world: World;
beforeAll(async () => {
  stack = await startTestStack();
  world = await buildWorld(async (method, url, key, body) => {
    const res = await stack.app.inject({ method: method as 'POST', url, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  }, stack.operatorKey);
});
afterAll(() => stack?.stop());

const send = (key: string, method: 'POST' | 'PATCH', url: string, body?: object) =>
  stack.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });

/** The history as short names; a workflow task (scheduled, started, completed) is one "task". */
async function events(workflowId: string): Promise<string[]> {
  const history = await stack.engine.client.workflow.getHandle(workflowId).fetchHistory();
  const names = (history.events ?? []).map((e) => String(temporal.api.enums.v1.EventType[e.eventType!]).replace(/^EVENT_TYPE_(WORKFLOW_EXECUTION_)?/, ''));
  return names.join(' ').replaceAll('WORKFLOW_TASK_SCHEDULED WORKFLOW_TASK_STARTED WORKFLOW_TASK_COMPLETED', 'task').split(' ');
}

// Each command: one workflow task in which the update is accepted, the transition recorded (a
// local activity's marker), the search attributes that changed written, and the update completed.
const command = ['task', 'UPDATE_ACCEPTED', 'MARKER_RECORDED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'UPDATE_COMPLETED'];

test('a standard lifecycle (invite → accept → offer access off → block): 33 events, one workflow task per command', async () => {
  const invited = await send(world.source.apiKey, 'POST', '/v1/connections', { targetClientId: world.stranger.id, offerAccess: true });
  expect(invited.statusCode, invited.body).toBe(201);
  const c = invited.json();
  expect((await send(world.stranger.apiKey, 'POST', `/v1/connections/${c.id}/accept`)).statusCode).toBe(200);
  expect((await send(world.source.apiKey, 'PATCH', `/v1/connections/${c.id}`, { offerAccess: false })).statusCode).toBe(200);
  expect((await send(world.stranger.apiKey, 'POST', `/v1/connections/${c.id}/block`)).statusCode).toBe(200);

  const history = await events(c.workflowId);
  expect(history).toEqual([
    // The invitation is started with its update (one round trip); the start carries memo and
    // search attributes, so the first record writes none. The patch marker and its search
    // attribute; the pinned rule set read by version (a marker), the record, the expiry timer.
    'STARTED', 'task', 'MARKER_RECORDED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    'UPDATE_ACCEPTED', 'MARKER_RECORDED', 'MARKER_RECORDED', 'TIMER_STARTED', 'UPDATE_COMPLETED',
    // accept: the expiry timer is cancelled.
    'task', 'UPDATE_ACCEPTED', 'TIMER_CANCELED', ...command.slice(2),
    ...command, // offer access off
    ...command, // block
  ]);
  expect(history.join(' ').replaceAll('task', 'a b c').split(' ')).toHaveLength(33);
});

test('a purchase: 12 events in two workflow tasks, the sale one activity', async () => {
  const history = await events(purchaseWorkflowId(world.seller.id, world.orderId));
  expect(history).toEqual([
    // The API starts the run with its search attributes (status "authorizing") and names the
    // run's shape in its input: no patch marker, no search-attribute write for it.
    'STARTED', 'task',
    // authorizeAndRecordPurchase asks the connection, prices and records: a regular activity, so
    // this run's workflow task is not held while the connection answers.
    'ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED',
    // The status "recorded", the result.
    'task', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'COMPLETED',
  ]);
  expect(history.join(' ').replaceAll('task', 'a b c').split(' ')).toHaveLength(12);
  // What an operator reads on the activity in the Temporal UI (docs/operators.md).
  const full = await stack.engine.client.workflow.getHandle(purchaseWorkflowId(world.seller.id, world.orderId)).fetchHistory();
  const scheduled = full.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
  const summary = stack.engine.client.options.loadedDataConverter.payloadConverter.fromPayload<string>(scheduled.userMetadata!.summary!);
  expect(summary).toBe(`authorize with 1 connection(s) and record order ${world.orderId}`);

  // The connection answered by the rule set's version (published: the activity reads it), so the
  // sale adds no copy of the rule set to the connection's history.
  const { workflow_id } = await stack.engine.database.db.selectFrom('connections').select('workflow_id').where('id', '=', world.connectionId).executeTakeFirstOrThrow();
  const connection = await stack.engine.client.workflow.getHandle(workflow_id).fetchHistory();
  const converter = stack.engine.client.options.loadedDataConverter.payloadConverter;
  const answers = connection.events!.flatMap((e) => {
    const done = e.workflowExecutionUpdateCompletedEventAttributes;
    return done?.meta?.updateId?.startsWith('sale:') ? [converter.fromPayload<Record<string, unknown>>(done.outcome!.success!.payloads![0]!)] : [];
  });
  expect(answers).toHaveLength(1);
  expect(Object.keys(answers[0]!).sort()).toEqual(['connection', 'connectionId', 'ruleSetVersion']);
});

test('an operator reads a run at a glance: current details, the rule set in the memo, summaries on records and the expiry timer', async () => {
  const invited = await send(world.stranger.apiKey, 'POST', '/v1/connections', { targetClientId: world.source.id, offerAccess: true });
  expect(invited.statusCode, invited.body).toBe(201);
  const c = invited.json();
  expect((await send(world.source.apiKey, 'POST', `/v1/connections/${c.id}/accept`)).statusCode).toBe(200);
  expect((await send(world.source.apiKey, 'POST', `/v1/connections/${c.id}/block`)).statusCode).toBe(200);
  const handle = stack.engine.client.workflow.getHandle(c.workflowId);

  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toMatch(/^\*\*Fremdblatt → Morgenpost\*\*: blocked \(blocked by Morgenpost\), offer access on/);
  expect(metadata.currentDetails).toMatch(/rule set \*\*default\*\* [0-9a-f]{12} · version 3/);
  const description = await handle.describe();
  expect(description.memo).toMatchObject({ connectionId: c.id, ruleSetName: 'default' });
  expect(await description.staticSummary()).toBe('Fremdblatt invites Morgenpost');

  const history = await handle.fetchHistory();
  // The input names the rule set by version: the UI opens on a few lines, not the compiled set.
  const converter = stack.engine.client.options.loadedDataConverter.payloadConverter;
  const input = converter.fromPayload<Record<string, unknown>>(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
  expect(input).toMatchObject({ connectionId: c.id, ruleSetVersion: description.memo!.ruleSetVersion });
  expect(input).not.toHaveProperty('ruleSet');
  const summaries = await Promise.all(
    (history.events ?? []).filter((e) => e.userMetadata?.summary).map(async (e) => stack.engine.client.options.loadedDataConverter.payloadConverter.fromPayload<string>(e.userMetadata!.summary!)),
  );
  const expires = `invitation expires ${c.expiresAt.slice(0, 10)}`;
  const version = description.memo!.ruleSetVersion as string;
  expect(summaries).toEqual([
    'Fremdblatt invites Morgenpost', // the start
    `read rule set ${version.slice(0, 12)}`,
    'record invite → invited; mail → Morgenpost',
    expires, // the timer, started
    expires, // and cancelled by the acceptance
    'record accept → active; mail → Fremdblatt',
    'record block → blocked; mail → Fremdblatt',
  ]);
});

test('a purchase started through Temporal without `shape` asks the patch, one naming the older shape `lean` takes it; every shape replays with today\'s code', async () => {
  const viaApi = await stack.engine.client.workflow.getHandle(purchaseWorkflowId(world.seller.id, world.orderId)).fetchHistory();
  const started = viaApi.events![0]!.workflowExecutionStartedEventAttributes!;
  const apiInput = stack.engine.client.options.loadedDataConverter.payloadConverter.fromPayload<PurchaseWorkflowInput>(started.input!.payloads![0]!);
  expect(apiInput.shape).toBe('one-step');

  // What a caller going to Temporal directly sends (docs/temporal.md): no shape, no search attributes.
  const { shape: _, startToken: __, ...direct } = apiInput;
  const startDirect = async (shape?: 'lean') => {
    const orderId = `direct-${randomUUID()}`;
    const handle = await stack.engine.client.workflow.start(purchaseWorkflow, {
      taskQueue: stack.engine.taskQueue,
      workflowId: purchaseWorkflowId(world.seller.id, orderId),
      args: [{ ...direct, request: { ...direct.request, orderId }, ...(shape ? { shape } : {}) }],
    });
    expect((await handle.result()).order.orderId).toBe(orderId);
    return handle;
  };
  const unnamed = await startDirect();
  // The patch marker and its search attribute, then the status "authorizing" the start did not set.
  expect((await events(unnamed.workflowId)).slice(0, 7)).toEqual([
    'STARTED', 'task', 'MARKER_RECORDED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED',
  ]);
  // The shape before: authorizeSale as an activity, then price and record as a local activity.
  const lean = await startDirect('lean');
  expect(await events(lean.workflowId)).toEqual([
    'STARTED', 'task', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    'ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED',
    'task', 'MARKER_RECORDED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'COMPLETED',
  ]);

  for (const [name, h] of [['api', viaApi], ['direct', await unnamed.fetchHistory()], ['lean', await lean.fetchHistory()]] as const) {
    await Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, h, `purchase-${name}`);
  }
});
