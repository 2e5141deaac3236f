import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { apiTestContext, call, type ApiTestContext } from './support.ts';

let ctx: ApiTestContext;
beforeAll(async () => {
  ctx = await apiTestContext();
});
afterAll(() => ctx.close());

test('without a worker polling the task queue, health is 503 naming the worker', async () => {
  const res = await call(ctx.app, undefined, 'GET', '/health');
  expect(res.statusCode).toBe(503);
  expect(res.json()).toMatchObject({ temporal: 'ok', database: 'ok', worker: 'unavailable', error: { code: 'UNAVAILABLE' } });
});

test('with a worker polling, health is 200 and needs no key', async () => {
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const worker = await Worker.create({
    connection,
    namespace: inject('temporalNamespace'),
    taskQueue: ctx.taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/idle.workflow.ts', import.meta.url)),
  });
  try {
    await worker.runUntil(async () => {
      // The server lists a poller once its first long poll arrives.
      let res = await call(ctx.app, undefined, 'GET', '/health');
      for (let i = 0; i < 50 && res.statusCode !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await call(ctx.app, undefined, 'GET', '/health');
      }
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ temporal: 'ok', database: 'ok', worker: 'ok', mail: { status: 'ok' } });
    });
  } finally {
    await connection.close();
  }
});

test('/openapi.json describes the routes and /docs serves the UI', async () => {
  const doc = (await call(ctx.app, undefined, 'GET', '/openapi.json')).json();
  expect(doc.openapi).toMatch(/^3\./);
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(['/v1/connections', '/v1/connections/{id}', '/v1/connections/{id}/accept', '/v1/contracting-companies', '/v1/clients', '/health']),
  );
  expect(doc.paths['/v1/connections'].post.requestBody.content['application/json'].schema.required).toEqual(['targetClientId', 'offerAccess']);
  expect((await call(ctx.app, undefined, 'GET', '/docs/')).statusCode).toBe(200);
});
