/**
 * At delivery, with insecure callbacks off (as in production): a callback host whose name
 * resolves to loopback or a private address is refused by every attempt — nothing reaches the
 * receiver listening there — and the refusal is in the source's log. The names resolve through a
 * resolver of the test (DNS is the boundary); `localhost` goes through the system's.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { systemResolve, type Resolve } from '../../runtime/callback-sender.ts';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { clientCalls } from './support.ts';

const names: Record<string, string> = { 'loopback.example.test': '127.0.0.1', 'private.example.test': '10.0.0.1' };
const resolve: Resolve = async (host) => (names[host] ? [{ address: names[host], family: 4 }] : systemResolve(host));

let stack: TestStack;
let receiver: CallbackReceiver;
beforeAll(async () => {
  receiver = await startCallbackReceiver();
  stack = await startTestStack({ callbacks: { allowInsecure: false, resolve } });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

const { ok } = clientCalls(() => stack.app);

test.each(['loopback.example.test', 'private.example.test', 'localhost'])('a callback to %s is refused at delivery', async (host) => {
  const [source] = (await companyOverHttp(stack, ['Quelle'])).clients as [HttpParty];
  const [seller] = (await companyOverHttp(stack, ['Verkauf'])).clients as [HttpParty];
  const url = `https://${host}:${receiver.port}/hook`;
  const connection = await ok(source, 'POST', '/v1/connections', { targetClientId: seller.id, offerAccess: true, callback: { url, secret: 'ssrf-test-secret-0123' } }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const ext = await ok(source, 'POST', '/v1/offers', {
    title: 'Partnerabo', priceMinor: 500, currency: 'EUR', crossClient: true, connectedClientIds: [seller.id], products: [{ name: 'D', costCenter: 'K' }],
  }, 201);
  const own = await ok(seller, 'POST', '/v1/offers', { title: 'Haus', priceMinor: 100, currency: 'EUR', crossClient: false, products: [{ name: 'A', costCenter: 'K1' }] }, 201);
  const draft = await ok(seller, 'POST', '/v1/carts', { title: 'K', items: [{ offerId: own.id, mandatory: true }, { offerId: ext.id, mandatory: false }] }, 201);
  const cart = await ok(seller, 'POST', `/v1/carts/${draft.id}/activate`);
  await ok(seller, 'POST', `/v1/carts/${cart.id}/purchases`, {
    orderId: `S-${host}`, customerId: 'K', paymentMethod: 'PAYPAL', currency: 'EUR', items: [{ offerId: own.id, amountMinor: 100 }, { offerId: ext.id, amountMinor: 500 }],
  }, 201);

  const until = Date.now() + 30_000;
  let delivery: any;
  do {
    await new Promise((r) => setTimeout(r, 100));
    [delivery] = (await ok(source, 'GET', `/v1/connections/${connection.id}/callbacks`)).items;
  } while (!(delivery?.log.length > 0) && Date.now() < until);
  expect(delivery).toMatchObject({ state: 'pending' }); // retried: DNS may change, the source may fix its URL
  expect(delivery.log[0]).toMatchObject({ attempt: 1, statusCode: null, outcome: 'retry' });
  expect(delivery.log[0].error).toMatch(new RegExp(`^refused: ${host.replace(/\./g, '\\.')} resolves to (127\\.0\\.0\\.1|10\\.0\\.0\\.1|::1)`));
  expect(receiver.received).toHaveLength(0);
});
