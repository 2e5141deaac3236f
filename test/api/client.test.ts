/**
 * The typed client (api/client): its types are what the current /openapi.json generates, and one
 * scenario sends a request to every documented operation through it — as the operator, the viewer
 * and three clients, against a stack with a worker — each answered with its success status.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { yamlBody } from '../../api/client/index.ts';
import { CLIENT_TYPES_FILE, clientTypesOf } from '../../scripts/client-types.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { expectStatus as ok, typedClient } from '../support/typed-client.ts';

let stack: TestStack;
let doc: any;
const sent = new Set<string>();
const as = (key?: string) => typedClient(() => stack.app, key, ({ method, schemaPath }) => sent.add(`${method} ${schemaPath}`));

beforeAll(async () => {
  stack = await startTestStack();
  doc = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => stack?.stop());

const documentedOperations = () =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

describe('the typed client', () => {
  test('its committed types are what the current /openapi.json generates (npm run client:types)', async () => {
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8')).toBe(await clientTypesOf(doc));
  });

  test('reaches every documented operation, each answering its success status', async () => {
    const operator = as(stack.operatorKey);
    expect((await ok(as().GET('/health'), 200)).database).toBe('ok');

    // The operator sets up a company with the module and three clients.
    const company = await ok(operator.POST('/v1/contracting-companies', { body: { name: 'Verlagshaus Client' } }), 201);
    const companyPath = { path: { id: company.id } };
    await ok(operator.PUT('/v1/contracting-companies/{id}/modules/{module}', { params: { path: { id: company.id, module: 'CROSS_CLIENT_CONNECTIONS' } } }), 204);
    const client = async (name: string, language: 'de' | 'en') => {
      const email = `${name.toLowerCase()}.${company.id.toLowerCase()}@example.test`;
      const created = await ok(operator.POST('/v1/clients', { body: { contractingCompanyId: company.id, name, email, language } }), 201);
      return { id: created.client.id, api: as(created.apiKey!) };
    };
    const source = await client('Morgenpost', 'de');
    const seller = await client('Abendblatt', 'en');
    const third = await client('Wochenblatt', 'de');
    expect((await ok(operator.GET('/v1/contracting-companies/{id}', { params: companyPath }), 200)).clients).toHaveLength(3);
    const extra = await ok(operator.POST('/v1/clients/{id}/api-keys', { params: { path: { id: third.id } } }), 201);
    await ok(operator.DELETE('/v1/api-keys/{keyId}', { params: { path: { keyId: extra.keyId } } }), 204);
    const viewer = as((await ok(operator.POST('/v1/viewer-keys'), 201)).apiKey!);
    const active = await ok(viewer.GET('/v1/rule-sets/active'), 200);
    // Publishing the active source again changes nothing (same content hash): safe on the shared database.
    expect((await ok(operator.POST('/v1/rule-sets', { body: active.source as never, ...yamlBody }), 201)).version).toBe(active.version);
    // Previewing the active text changes nothing; activating the active version neither.
    expect((await ok(operator.POST('/v1/rule-sets/preview', { body: active.source as never, ...yamlBody }), 200)).partial).toBe(false);
    await ok(operator.POST('/v1/rule-sets/{version}/activate', { params: { path: { version: active.version } } }), 200);

    // A connection through its lifecycle, and two invitations that do not become one.
    const invited = await ok(source.api.POST('/v1/connections', { body: { targetClientId: seller.id, offerAccess: true } }), 201);
    const connection = { path: { id: invited.id } };
    await ok(seller.api.POST('/v1/connections/{id}/accept', { params: connection }), 200);
    await ok(source.api.PATCH('/v1/connections/{id}', { params: connection, body: { offerAccess: true } }), 200);
    await ok(seller.api.POST('/v1/connections/{id}/block', { params: connection }), 200);
    await ok(seller.api.POST('/v1/connections/{id}/unblock', { params: connection }), 200);
    const declined = await ok(third.api.POST('/v1/connections', { body: { targetClientId: seller.id, offerAccess: false } }), 201);
    expect((await ok(seller.api.POST('/v1/connections/{id}/decline', { params: { path: { id: declined.id } } }), 200)).status).toBe('declined');
    const withdrawn = await ok(third.api.POST('/v1/connections', { body: { targetClientId: source.id, offerAccess: false } }), 201);
    expect((await ok(third.api.POST('/v1/connections/{id}/withdraw', { params: { path: { id: withdrawn.id } } }), 200)).status).toBe('withdrawn');
    expect((await ok(seller.api.GET('/v1/connections', { params: { query: { role: 'target' } } }), 200)).items.length).toBeGreaterThanOrEqual(2);
    expect((await ok(source.api.GET('/v1/connections/{id}', { params: connection }), 200)).status).toBe('active');
    // The source registers a callback (port 9: nobody listens, deliveries stay pending and retry).
    const callback = { url: 'http://127.0.0.1:9/ccx-callbacks', secret: 'callback-secret-of-the-source-0123' };
    expect((await ok(source.api.PUT('/v1/connections/{id}/callback', { params: connection, body: callback }), 200)).callback?.url).toBe(callback.url);

    // Anyone reads the machines and simulates; a party sees its connection live.
    const machines = await ok(as().GET('/v1/machines'), 200);
    expect(machines.machines.map((m) => m.name)).toEqual(expect.arrayContaining(['connection', 'cart']));
    const scenario = { sameCompany: true, sourceModuleActive: true, targetModuleActive: true, hasCallback: false, offerAccess: true, blockedBy: null };
    expect((await ok(as().POST('/v1/machines/connection/simulate', { body: { state: 'invited', event: 'accept', actor: 'target', scenario } }), 200)).to).toBe('active');
    expect((await ok(as().POST('/v1/machines/cart/simulate', { body: { state: 'draft', event: 'activate', actor: 'seller', scenario: { externalItem: false, externalAvailable: true } } }), 200)).outcome).toBe('moved');
    await ok(seller.api.GET('/v1/machines/live/{id}', { params: connection }), 200);

    // Offers, a cart, a purchase and its later movements.
    const offerBody = (title: string, sharedWith: string[]) => ({
      title,
      priceMinor: 1299,
      currency: 'EUR',
      crossClient: sharedWith.length > 0,
      ...(sharedWith.length > 0 ? { connectedClientIds: sharedWith } : {}),
      products: [{ name: title, costCenter: 'KST-100' }],
    });
    const shared = await ok(source.api.POST('/v1/offers', { body: offerBody('Digitalabo Morgenpost', [seller.id]) }), 201);
    await ok(source.api.PATCH('/v1/offers/{id}', { params: { path: { id: shared.id } }, body: { title: 'Digitalabo Morgenpost plus' } }), 200);
    expect((await ok(source.api.GET('/v1/offers'), 200)).items.map((o) => o.id)).toContain(shared.id);
    expect((await ok(seller.api.GET('/v1/offers/external'), 200)).items.map((o) => o.id)).toContain(shared.id);
    const own = await ok(seller.api.POST('/v1/offers', { body: offerBody('Digitalabo Abendblatt', []) }), 201);
    expect((await ok(seller.api.GET('/v1/offers/{id}', { params: { path: { id: own.id } } }), 200)).title).toBe('Digitalabo Abendblatt');
    const cart = await ok(seller.api.POST('/v1/carts', { body: { title: 'Kombiabo', items: [{ offerId: own.id, mandatory: true }] } }), 201);
    const cartPath = { path: { id: cart.id } };
    const items = [
      { offerId: own.id, mandatory: true },
      { offerId: shared.id, mandatory: false },
    ];
    await ok(seller.api.PUT('/v1/carts/{id}/items', { params: cartPath, body: { items } }), 200);
    await ok(seller.api.POST('/v1/carts/{id}/activate', { params: cartPath }), 200);
    expect((await ok(seller.api.GET('/v1/carts/{id}', { params: cartPath }), 200)).status).toBe('active');
    expect((await ok(seller.api.GET('/v1/carts'), 200)).items.map((c) => c.id)).toContain(cart.id);
    const orderId = `order-${cart.id}`;
    const order = await ok(
      seller.api.POST('/v1/carts/{id}/purchases', {
        params: cartPath,
        body: {
          orderId,
          customerId: 'kunde-1',
          paymentMethod: 'PAYPAL',
          currency: 'EUR',
          subscriptionId: 'abo-1',
          items: [
            { offerId: own.id, amountMinor: 1299 },
            { offerId: shared.id, amountMinor: 1299 },
          ],
        },
      }),
      201,
    );
    expect(order.payouts).toHaveLength(1);
    // The purchase owes the source a callback: listed, redelivered, and its claim code claimed.
    const deliveries = (await ok(source.api.GET('/v1/connections/{id}/callbacks', { params: connection }), 200)).items;
    expect(deliveries.map((d) => d.callbackType)).toEqual(['ORDER_PURCHASED']);
    const deliveryPath = { path: { id: invited.id, deliveryId: deliveries[0]!.id } };
    expect((await ok(source.api.POST('/v1/connections/{id}/callbacks/{deliveryId}/redeliver', { params: deliveryPath }), 202)).id).toBe(deliveries[0]!.id);
    const claimCode = (deliveries[0]!.payload.entity as { claimCode: string }).claimCode;
    expect(await ok(source.api.POST('/v1/claims', { body: { code: claimCode, customerId: 'kunde-der-quelle' } }), 200)).toEqual({ orderId, subscriptionId: 'abo-1' });
    const orderPath = { path: { orderId } };
    const oneCent = [{ offerId: shared.id, amountMinor: 100 }];
    await ok(seller.api.POST('/v1/orders/{orderId}/refunds', { params: orderPath, body: { refundId: 'refund-1', items: oneCent } }), 201);
    await ok(seller.api.POST('/v1/orders/{orderId}/chargebacks', { params: orderPath, body: { chargebackId: 'cb-1', items: oneCent } }), 201);
    await ok(seller.api.POST('/v1/orders/{orderId}/payments', { params: orderPath, body: { paymentId: 'renewal-1', items: [{ offerId: shared.id, amountMinor: 1299 }] } }), 201);

    // The payout list, read and settled by both parties.
    expect((await ok(source.api.GET('/v1/payouts'), 200)).items).toHaveLength(4);
    const csv = await ok(seller.api.GET('/v1/payouts.csv', { parseAs: 'text' }), 200);
    expect(csv.split('\n').filter(Boolean)).toHaveLength(5);
    expect((await ok(source.api.GET('/v1/payouts/summary'), 200)).items.length).toBeGreaterThan(0);
    await ok(source.api.PUT('/v1/payouts/{id}/paid-status', { params: { path: { id: order.payouts[0]!.id } }, body: { paidStatus: 'PAID' } }), 200);
    expect((await ok(seller.api.POST('/v1/payouts/mark-paid', { body: { until: new Date(Date.now() + 60_000).toISOString() } }), 200)).marked).toBe(3);
    expect((await ok(seller.api.GET('/v1/events'), 200)).items.length).toBeGreaterThan(0);

    // Wind down: the cart archived, the connection ended, the module off; what operators read.
    await ok(seller.api.POST('/v1/carts/{id}/archive', { params: cartPath }), 200);
    await ok(source.api.POST('/v1/connections/{id}/end', { params: connection }), 200);
    await ok(operator.DELETE('/v1/contracting-companies/{id}/modules/{module}', { params: { path: { id: company.id, module: 'CROSS_CLIENT_CONNECTIONS' } } }), 204);
    expect((await ok(viewer.GET('/v1/mails', { params: { query: { connectionId: invited.id } } }), 200)).items.length).toBeGreaterThan(0);
    expect((await ok(operator.GET('/v1/audit', { params: { query: { action: 'module.switched' } } }), 200)).items.length).toBeGreaterThan(0);

    // Not one documented operation left out, and nothing sent that the document does not know.
    expect([...sent].sort()).toEqual(documentedOperations().sort());
  });
});
