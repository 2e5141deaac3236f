import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { connectionUpdates, stateQuery, type ModuleFanoutInput } from '../../workflows/messages.ts';
import type { moduleFanoutWorkflow, ModuleFanoutRunInput } from '../../workflows/module-fanout.workflow.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany, setModule } from '../support/fixtures.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(() => engine?.stop());

async function switchModule(companyId: string, active: boolean, paging: Pick<ModuleFanoutRunInput, 'pageSize' | 'pagesPerRun'> = {}, workflowId = `modules:${companyId}:${randomUUID()}`) {
  await setModule(engine.database.db, companyId, active);
  const input: ModuleFanoutInput = { contractingCompanyId: companyId, active, module: 'CROSS_CLIENT_CONNECTIONS' };
  return engine.client.workflow.execute<typeof moduleFanoutWorkflow>('moduleFanoutWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId,
    args: [{ ...input, ...paging }],
  });
}

test('a module switched off reaches open connections: accept is refused, the status stays', async () => {
  const company = await createCompany(engine.database.db, {
    clients: [
      { name: 'Kurier', language: 'de' },
      { name: 'Bote', language: 'en' },
    ],
  });
  const [a, b] = [company.clients[0]!, company.clients[1]!];
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });

  expect(await switchModule(company.id, false)).toEqual({ signalled: 1 });
  await expect.poll(async () => (await handle.query(stateQuery)).context.modulesActive).toBe(false);
  const refused = await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: b.id }] }).catch((e) => e.cause?.type);
  expect(refused).toBe('CONTRACT_MODULE_INACTIVE');
  expect((await handle.query(stateQuery)).value).toBe('invited');

  await switchModule(company.id, true);
  await expect.poll(async () => (await handle.query(stateQuery)).context.modulesActive).toBe(true);
  expect(await handle.executeUpdate(connectionUpdates.accept, { args: [{ connectionId: view.id, actor: b.id }] })).toMatchObject({ status: 'active' });
});

test('declining stays possible while the module is off', async () => {
  const company = await createCompany(engine.database.db, {
    clients: [
      { name: 'Anzeiger', language: 'de' },
      { name: 'Rundschau', language: 'de' },
    ],
  });
  const [a, b] = [company.clients[0]!, company.clients[1]!];
  const { handle, view } = await invite(engine, { sourceClientId: a.id, targetClientId: b.id, offerAccess: true });
  await switchModule(company.id, false);
  await expect.poll(async () => (await handle.query(stateQuery)).context.modulesActive).toBe(false);
  expect(await handle.executeUpdate(connectionUpdates.decline, { args: [{ connectionId: view.id, actor: b.id }] })).toMatchObject({ status: 'declined' });
});

test('the fan-out reaches every open connection over several pages and runs, signalling from an activity', async () => {
  const company = await createCompany(engine.database.db, {
    clients: ['Quelle', 'Eins', 'Zwei', 'Drei', 'Vier', 'Fuenf'].map((name) => ({ name, language: 'de' as const })),
  });
  const [source, ...targets] = company.clients;
  const handles = [];
  for (const target of targets) handles.push((await invite(engine, { sourceClientId: source!.id, targetClientId: target.id, offerAccess: true })).handle);

  // 5 connections, 2 per page, 2 pages per run: 3 pages in 2 runs.
  const workflowId = `modules:${company.id}:${randomUUID()}`;
  expect(await switchModule(company.id, false, { pageSize: 2, pagesPerRun: 2 }, workflowId)).toEqual({ signalled: 5 });
  for (const handle of handles) await expect.poll(async () => (await handle.query(stateQuery)).context.modulesActive).toBe(false);

  const last = await engine.client.workflow.getHandle(workflowId).fetchHistory();
  const first = last.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  expect(first).toBeTruthy(); // continued as new
  const history = await engine.client.workflow.getHandle(workflowId, first!).fetchHistory();
  // No signal from workflow code: the pages' activity sends them.
  for (const h of [history, last]) expect(h.events?.some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toBe(false);
  expect(history.events?.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'signalCompanyConnectionsPage')).toHaveLength(2);
});

test('a fan-out recorded before paging (no patch marker) still replays', async () => {
  // Recorded with the unpaged workflow: one listing activity, then one signal per connection.
  const history = JSON.parse(readFileSync(new URL('./fixtures/module-fanout-unpaged.history.json', import.meta.url), 'utf8'));
  await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundleCode') } }, history, 'module-fanout-unpaged')).resolves.toBeUndefined();
});
