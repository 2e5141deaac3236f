/**
 * A worker killed (SIGKILL) while it delivers a callback does not lose it: the delivery's claim
 * runs out and another worker delivers it — with the same delivery id, which the receiver sees
 * twice (docs/callbacks.md says how to deduplicate). Real `ccx worker` process, real receiver.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { clientCalls } from '../api/support.ts';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { workerProcesses } from '../support/worker-process.ts';

let stack: TestStack;
let receiver: CallbackReceiver;
const workers = workerProcesses(() => stack.engine);
beforeAll(async () => {
  receiver = await startCallbackReceiver();
  stack = await startTestStack();
});
afterAll(async () => {
  workers.killAll();
  await stack?.stop();
  await receiver?.stop();
});

const { ok } = clientCalls(() => stack.app);

test('a worker killed during delivery: the callback is delivered by another, the same delivery id twice', async () => {
  const [source] = (await companyOverHttp(stack, ['Quelle'])).clients as [HttpParty];
  const [seller] = (await companyOverHttp(stack, ['Verkauf'])).clients as [HttpParty];
  const connection = await ok(source, 'POST', '/v1/connections', {
    targetClientId: seller.id, offerAccess: true, callback: { url: receiver.url('/crash'), secret: 'crash-test-secret-0123' },
  }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const ext = await ok(source, 'POST', '/v1/offers', {
    title: 'Partnerabo', priceMinor: 500, currency: 'EUR', crossClient: true, connectedClientIds: [seller.id], products: [{ name: 'D', costCenter: 'K' }],
  }, 201);
  const own = await ok(seller, 'POST', '/v1/offers', { title: 'Haus', priceMinor: 100, currency: 'EUR', crossClient: false, products: [{ name: 'A', costCenter: 'K1' }] }, 201);
  const draft = await ok(seller, 'POST', '/v1/carts', { title: 'K', items: [{ offerId: own.id, mandatory: true }, { offerId: ext.id, mandatory: false }] }, 201);
  const cart = await ok(seller, 'POST', `/v1/carts/${draft.id}/activate`);

  // Only the worker process delivers from here on: the in-process worker and its dispatchers stop.
  await stack.engine.stopWorker();
  const child: ChildProcess = await workers.start({ CCX_CALLBACK_LEASE_MS: '3000' });
  // The first request is held unanswered: the worker dies while it waits for the receiver.
  receiver.answer((_r, nth) => (nth === 1 ? new Promise<number>(() => {}) : 200));
  await ok(seller, 'POST', `/v1/carts/${cart.id}/purchases`, {
    orderId: 'CRASH-1', customerId: 'K', paymentMethod: 'PAYPAL', currency: 'EUR', items: [{ offerId: own.id, amountMinor: 100 }, { offerId: ext.id, amountMinor: 500 }],
  }, 201);
  const [first] = await receiver.waitFor((r) => r.path === '/crash');
  await workers.kill(child);

  await stack.engine.startWorker(); // another worker; it takes the delivery over once the lease runs out
  const both = await receiver.waitFor((r) => r.path === '/crash', 2);
  expect(both[1]!.headers['x-ccx-delivery']).toBe(first!.headers['x-ccx-delivery']);
  expect(both[1]!.body).toBe(first!.body);

  const until = Date.now() + 30_000;
  let delivery: any;
  do {
    await new Promise((r) => setTimeout(r, 100));
    [delivery] = (await ok(source, 'GET', `/v1/connections/${connection.id}/callbacks`)).items;
  } while (delivery?.state !== 'delivered' && Date.now() < until);
  expect(delivery).toMatchObject({ id: first!.headers['x-ccx-delivery'], state: 'delivered', attempts: 2 });
  // The killed worker's attempt left no log line (it died before recording); the second did.
  expect(delivery.log.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([[2, 200, 'delivered']]);
  // The killed worker printed while it signed and sent, never the secret.
  const printed = workers.outputOf(child);
  expect(printed).toContain('worker polling');
  expect(printed).not.toContain('crash-test-secret-0123');
});
