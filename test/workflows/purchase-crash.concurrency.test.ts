/**
 * A real worker process killed with SIGKILL in the middle of a purchase — while its (local)
 * activity waits for `authorizeSale` from a connection whose worker is down — and a new worker
 * started: the
 * purchase completes with the same rows, no more; the connection accepted the sale once; the
 * request that hit its deadline meanwhile (503) is answered by a retry with the same order.
 *
 * Two task queues: connections and carts on the in-process engine's queue (its worker stopped to
 * play "slow"), purchases on a second queue served by `ccx worker` processes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildApp } from '../../api/app.ts';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import { saleUpdateId } from '../../workflows/messages.ts';
import { purchaseWorkflowId } from '../../workflows/purchase.messages.ts';
import type { purchaseWorkflow } from '../../workflows/purchase.workflow.ts';
import { call, clientCalls } from '../api/support.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import type { HttpParty, TestStack } from '../support/stack.ts';
import { companyOverHttp } from '../support/stack.ts';
import { workerProcesses } from '../support/worker-process.ts';

let engine: TestEngine;
let app: FastifyInstance; // connections, offers, carts: the engine's queue
let purchaseApp: FastifyInstance; // purchases: the worker processes' queue
const purchaseQueue = `purchase-${randomUUID()}`;
const workers = workerProcesses(() => engine);
/** A `ccx worker` on the purchase queue only (no relay: this process serves purchases). */
const startPurchaseWorker = () => workers.start({ CCX_TASK_QUEUE: purchaseQueue, CCX_FANOUT_RELAY_MS: '0' });

beforeAll(async () => {
  engine = await startTestEngine();
  const deps = { db: engine.database.db, secretKey: randomBytes(32), temporalDeadlineMs: 4000, allowInsecureCallbacks: true };
  app = buildApp({ ...deps, temporal: { client: engine.client, taskQueue: engine.taskQueue, namespace: engine.namespace } });
  purchaseApp = buildApp({ ...deps, temporal: { client: engine.client, taskQueue: purchaseQueue, namespace: engine.namespace } });
  await Promise.all([app.ready(), purchaseApp.ready()]);
});
afterAll(async () => {
  workers.killAll();
  await app?.close();
  await purchaseApp?.close();
  await engine?.stop();
});

const { ok } = clientCalls(() => app);

test('a worker killed while a purchase awaits authorizeSale: the purchase completes with the same rows, no more', { timeout: 180_000 }, async () => {
  const { apiKey: operatorKey } = await createApiKey(engine.database.db, operatorPrincipal);
  const stack = { app, operatorKey } as unknown as TestStack;
  const company = await companyOverHttp(stack, ['Quelle', 'Verkauf']);
  const [source, seller] = company.clients as [HttpParty, HttpParty];
  const connection = await ok(source, 'POST', '/v1/connections', { targetClientId: seller.id, offerAccess: true }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const offer = (owner: HttpParty, body: object) =>
    ok(owner, 'POST', '/v1/offers', { priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }], ...body }, 201);
  const external = await offer(source, { title: 'Partnerabo', priceMinor: 1999, crossClient: true, connectedClientIds: [seller.id] });
  const own = await offer(seller, { title: 'Hausabo' });
  const draft = await ok(seller, 'POST', '/v1/carts', { title: 'Kombi', items: [{ offerId: own.id, mandatory: true }, { offerId: external.id, mandatory: true }] }, 201);
  const cart = await ok(seller, 'POST', `/v1/carts/${draft.id}/activate`);

  await engine.stopWorker(); // the connection's worker is "slow": its updates wait
  const first = await startPurchaseWorker();
  const orderId = `CRASH-${randomUUID().slice(0, 8)}`;
  const body = { orderId, customerId: 'K', paymentMethod: 'IDEAL', currency: 'EUR', items: [{ offerId: own.id, amountMinor: 999 }, { offerId: external.id, amountMinor: 1999 }] };
  const post = () => call(purchaseApp, seller.apiKey, 'POST', `/v1/carts/${cart.id}/purchases`, body);
  const pending = post();
  const postedAt = Date.now();
  let killedAt = 0;

  // Kill the worker while its authorizeSale (an activity) waits for the connection: the update it
  // sent is a workflow task the connection has not run.
  const handle = engine.client.workflow.getHandle<typeof purchaseWorkflow>(purchaseWorkflowId(seller.id, orderId));
  const connectionHandle = engine.client.workflow.getHandle(connection.workflowId);
  await expect
    .poll(async () => Boolean((await connectionHandle.describe()).raw.pendingWorkflowTask), { timeout: 30_000, interval: 50 })
    .toBe(true);
  await workers.kill(first);
  killedAt = Date.now();
  const timedOut = await pending;
  expect([timedOut.statusCode, timedOut.json().error.code], timedOut.body).toEqual([503, 'UNAVAILABLE']);

  await startPurchaseWorker();
  await engine.startWorker(); // the connection answers again
  const result = await handle.result();
  console.log(`[purchase-crash] killed ${killedAt - postedAt} ms after the post; completed ${Date.now() - postedAt} ms after it`);
  expect(result.order.payouts).toHaveLength(1);
  expect(result.order.payouts[0]).toMatchObject({ offerId: external.id, amountMinor: 1999, shareBasisPoints: 10000, shareMinor: 1999 });

  // The retry converges on the same order (200: the run was started by the request that timed out).
  const retry = await post();
  expect(retry.statusCode, retry.body).toBe(200);
  expect(retry.json()).toEqual(result.order);

  const db = engine.database.db;
  expect(await db.selectFrom('orders').select('id').where('seller_client_id', '=', seller.id).where('order_id', '=', orderId).execute()).toHaveLength(1);
  const rows = await db.selectFrom('payout_rows').select('id').where('connected_client_id', '=', seller.id).where('order_id', '=', orderId).execute();
  expect(rows.map((r) => r.id)).toEqual([result.order.payouts[0]!.id]);

  // The connection accepted the sale once, though two activity attempts asked for it.
  const history = await engine.client.workflow.getHandle(connection.workflowId).fetchHistory();
  const sales = (history.events ?? []).filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId === saleUpdateId(seller.id, orderId, connection.id),
  );
  expect(sales).toHaveLength(1);
  // The killed worker's attempt timed out and the activity ran again elsewhere.
  const purchaseHistory = await handle.fetchHistory();
  const started = (purchaseHistory.events ?? []).flatMap((e) => e.activityTaskStartedEventAttributes ?? []);
  expect(started.map((a) => a.attempt ?? 1).some((attempt) => attempt >= 2)).toBe(true);
});
