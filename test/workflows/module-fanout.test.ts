import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectionUpdates, stateQuery, type ModuleFanoutInput } from '../../workflows/messages.ts';
import type { moduleFanoutWorkflow } from '../../workflows/module-fanout.workflow.ts';
import { invite } from '../support/connections.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { createCompany, setModule } from '../support/fixtures.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(() => engine?.stop());

async function switchModule(companyId: string, active: boolean) {
  await setModule(engine.database.db, companyId, active);
  const input: ModuleFanoutInput = { contractingCompanyId: companyId, active, module: 'CROSS_CLIENT_CONNECTIONS' };
  return engine.client.workflow.execute<typeof moduleFanoutWorkflow>('moduleFanoutWorkflow', {
    taskQueue: engine.taskQueue,
    workflowId: `modules:${companyId}:${randomUUID()}`,
    args: [input],
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
