/**
 * Admission control (api/admission.ts): past the commands in flight and the queue, a command is
 * answered 429 BUSY with Retry-After — before its Idempotency-Key is claimed, so nothing is
 * recorded and a retry with the same key proceeds normally. Slots are held by commands waiting
 * for a worker that is stopped, so the test needs no timing: they are in flight until their
 * Temporal deadline answers 503.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../api/app.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
let app: FastifyInstance;
beforeAll(async () => {
  stack = await startTestStack();
  // One command at a time, one waiting, for a short while.
  app = buildApp({
    db: stack.engine.database.db,
    temporal: { client: stack.engine.client, taskQueue: stack.engine.taskQueue, namespace: stack.engine.namespace },
    secretKey: randomBytes(32),
    temporalDeadlineMs: 2000,
    admission: { limit: 1, queue: 1, maxWaitMs: 300 },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

describe('admission', () => {
  let a: HttpParty;
  let b: HttpParty;
  let c: HttpParty;
  let connectionId: string;
  let otherConnectionId: string;
  beforeAll(async () => {
    const company = await companyOverHttp(stack, ['Morgenpost', 'Abendblatt', 'Tagesspiegel']);
    [a, b, c] = company.clients as [HttpParty, HttpParty, HttpParty];
    const invite = async (target: HttpParty) => {
      const created = await call(app, a.apiKey, 'POST', '/v1/connections', { targetClientId: target.id, offerAccess: true });
      expect(created.statusCode, created.body).toBe(201);
      return created.json().id as string;
    };
    connectionId = await invite(b);
    otherConnectionId = await invite(c);
  });

  test('past the slot and the queue: 429 BUSY with Retry-After, the key unclaimed; the same key later proceeds', async () => {
    await stack.engine.stopWorker();
    const accept = (key: string) => call(app, b.apiKey, 'POST', `/v1/connections/${connectionId}/accept`, undefined, { 'idempotency-key': `${key}-${connectionId}` });
    // In flight until its deadline (no worker answers): another connection's command holds the slot.
    const holding = call(app, c.apiKey, 'POST', `/v1/connections/${otherConnectionId}/accept`);
    await until(() => gateLoad(app).inFlight === 1);
    const waiting = accept('waits-then-gives-up'); // queued, refused after maxWaitMs
    await until(() => gateLoad(app).waiting === 1);
    const refusedAtOnce = await accept('queue-full');
    const refusedLater = await waiting;
    for (const res of [refusedAtOnce, refusedLater]) {
      expect([res.statusCode, res.json().error.code]).toEqual([429, 'BUSY']);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const held = await holding;
    expect([held.statusCode, held.json().error.code]).toEqual([503, 'UNAVAILABLE']);

    // Nothing was claimed or recorded under the refused keys.
    const rows = await stack.engine.database.db.selectFrom('idempotency_keys').select('key').where('key', 'in', [`queue-full-${connectionId}`, `waits-then-gives-up-${connectionId}`]).execute();
    expect(rows).toEqual([]);
    expect(gateLoad(app)).toEqual({ inFlight: 0, waiting: 0 });

    await stack.engine.startWorker();
    let retried = await accept('queue-full');
    for (let attempt = 0; retried.statusCode === 503 && attempt < 20; attempt++) retried = await accept('queue-full');
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'active', version: 2 });
  });

  test('reads never wait for admission, and the document names 429 on the commands it governs', async () => {
    expect((await call(app, a.apiKey, 'GET', `/v1/connections/${connectionId}`)).statusCode).toBe(200);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/v1/connections/{id}/accept'].post.responses)).toContain('429');
    expect(Object.keys(doc.paths['/v1/carts/{id}/purchases'].post.responses)).toContain('429');
    expect(Object.keys(doc.paths['/v1/connections/{id}'].get.responses)).not.toContain('429');
    expect(Object.keys(doc.paths['/v1/offers'].post.responses)).not.toContain('429'); // no Temporal call in the request
  });
});

const gateLoad = (app: FastifyInstance) => app.admission.load;
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
