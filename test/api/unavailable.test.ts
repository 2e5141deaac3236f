/**
 * Decision 9: every Temporal call has a deadline. With no worker the answer is 503 "outcome
 * unknown"; a retry with the same Idempotency-Key after the worker is back converges on exactly
 * one effect.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { companyOverHttp, startTestStack, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ temporalDeadlineMs: 1500 });
});
afterAll(() => stack?.stop());

test('no worker: 503 UNAVAILABLE, and the retry with the same key converges on one transition', async () => {
  const op = stack.operatorKey;
  const company = (await call(stack.app, op, 'POST', '/v1/contracting-companies', { name: 'Verlag' })).json();
  await call(stack.app, op, 'PUT', `/v1/contracting-companies/${company.id}/modules/CROSS_CLIENT_CONNECTIONS`);
  const mk = async (name: string) =>
    (await call(stack.app, op, 'POST', '/v1/clients', { contractingCompanyId: company.id, name, email: `${name}@example.test`, language: 'en' })).json();
  const a = await mk('alpha');
  const b = await mk('beta');
  const created = await call(stack.app, a.apiKey, 'POST', '/v1/connections', { targetClientId: b.client.id, offerAccess: true });
  expect(created.statusCode).toBe(201);
  const id = created.json().id;

  await stack.engine.stopWorker();
  const key = { 'idempotency-key': 'accept-while-down' };
  const down = await call(stack.app, b.apiKey, 'POST', `/v1/connections/${id}/accept`, undefined, key);
  expect([down.statusCode, down.json().error.code]).toEqual([503, 'UNAVAILABLE']);
  expect(down.json().error.message).toMatch(/retry/i);

  await stack.engine.startWorker();
  // As a caller would: retry with the same key while the outcome is unknown. The new worker may
  // need a few seconds to pick the workflow up (its task first times out on the old worker's queue).
  let retried = await call(stack.app, b.apiKey, 'POST', `/v1/connections/${id}/accept`, undefined, key);
  for (let attempt = 0; retried.statusCode === 503 && attempt < 20; attempt++) {
    await new Promise((r) => setTimeout(r, 500));
    retried = await call(stack.app, b.apiKey, 'POST', `/v1/connections/${id}/accept`, undefined, key);
  }
  expect(retried.statusCode, retried.body).toBe(200);
  expect(retried.json()).toMatchObject({ status: 'active', version: 2 });
  const read = (await call(stack.app, a.apiKey, 'GET', `/v1/connections/${id}`)).json();
  expect(read.history.map((h: { event: string }) => h.event)).toEqual(['invite', 'accept']);
});

test('a Temporal refusal that retrying cannot fix (INVALID_ARGUMENT: a task queue name over the limit) is 500 INTERNAL, not 503 "retry"', async () => {
  const { buildApp } = await import('../../api/app.ts');
  const { randomBytes } = await import('node:crypto');
  const misconfigured = buildApp({
    db: stack.engine.database.db,
    temporal: { client: stack.engine.client, taskQueue: 'q'.repeat(2000), namespace: stack.engine.namespace },
    secretKey: randomBytes(32),
    temporalDeadlineMs: 1500,
  });
  const { clients } = await companyOverHttp(stack, ['gamma', 'delta']);
  const res = await call(misconfigured, clients[0]!.apiKey, 'POST', '/v1/connections', { targetClientId: clients[1]!.id, offerAccess: true });
  expect([res.statusCode, res.json().error.code]).toEqual([500, 'INTERNAL']);
  await misconfigured.close();
});

test('the Temporal deadline counts from the arrival of the request, not from the first Temporal call', async () => {
  const { buildApp } = await import('../../api/app.ts');
  const { randomBytes } = await import('node:crypto');
  const slow = buildApp({ db: stack.engine.database.db, temporal: { client: stack.engine.client, taskQueue: stack.engine.taskQueue, namespace: stack.engine.namespace }, secretKey: randomBytes(32), temporalDeadlineMs: 1500 });
  // The request spends its whole budget before reaching Temporal (a slow hook standing in for slow
  // authentication or database reads): although a worker is ready, the answer is 503, not late.
  slow.addHook('preHandler', async () => new Promise((r) => setTimeout(r, 1600)));
  const { clients } = await companyOverHttp(stack, ['epsilon', 'zeta']);
  const created = await call(stack.app, clients[0]!.apiKey, 'POST', '/v1/connections', { targetClientId: clients[1]!.id, offerAccess: true });
  const key = { 'idempotency-key': 'late-accept' };
  const late = await call(slow, clients[1]!.apiKey, 'POST', `/v1/connections/${created.json().id}/accept`, undefined, key);
  expect([late.statusCode, late.json().error.code]).toEqual([503, 'UNAVAILABLE']);
  // The retry, through an API without the delay, converges on the accept.
  const retried = await call(stack.app, clients[1]!.apiKey, 'POST', `/v1/connections/${created.json().id}/accept`, undefined, key);
  expect(retried.json()).toMatchObject({ status: 'active', version: 2 });
  await slow.close();
});
