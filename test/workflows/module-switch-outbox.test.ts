/**
 * A module switch is committed first and told to the connections after: if Temporal is out of
 * reach in between, the switch must still reach them (transactional outbox + the worker's relay).
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildApp } from '../../api/app.ts';
import { startFanoutRelay } from '../../runtime/worker.ts';
import { stateQuery } from '../../workflows/messages.ts';
import { call } from '../api/support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

test('a switch made while Temporal is unreachable reaches the open connections once the relay runs', async () => {
  const company = await companyOverHttp(stack, ['Kurier', 'Bote']);
  const [a, b] = company.clients as [HttpParty, HttpParty];
  const invited = await call(stack.app, a.apiKey, 'POST', '/v1/connections', { targetClientId: b.id, offerAccess: true });
  expect(invited.statusCode, invited.body).toBe(201);
  const handle = stack.engine.client.workflow.getHandle(invited.json().workflowId as string);

  // An API process whose Temporal is gone: the switch is committed, telling the connections fails.
  const nowhere = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 100 }).catch(() => Connection.lazy({ address: '127.0.0.1:1' }));
  const cutOff = buildApp({
    db: stack.engine.database.db,
    temporal: { client: new Client({ connection: nowhere }), taskQueue: stack.engine.taskQueue, namespace: stack.engine.namespace },
    secretKey: randomBytes(32),
    temporalDeadlineMs: 500,
  });
  const off = await call(cutOff, stack.operatorKey, 'DELETE', `/v1/contracting-companies/${company.id}/modules/CROSS_CLIENT_CONNECTIONS`, undefined, { 'idempotency-key': 'switch-off-1' });
  expect(off.statusCode, off.body).toBe(204); // committed: the outbox owns telling the connections
  await cutOff.close();
  await nowhere.close();

  const relay = startFanoutRelay(
    { db: stack.engine.database.db, client: stack.engine.client, taskQueue: stack.engine.taskQueue, intervalMs: 100, options: { minAgeMs: 0 } },
    () => {},
  );
  try {
    await expect.poll(async () => (await handle.query(stateQuery)).context.modulesActive, { timeout: 15_000 }).toBe(false);
    const accept = await call(stack.app, b.apiKey, 'POST', `/v1/connections/${invited.json().id}/accept`);
    expect(accept.json().error?.code).toBe('CONTRACT_MODULE_INACTIVE');
  } finally {
    await relay.stop();
  }
});
