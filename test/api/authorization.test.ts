/**
 * The authorization matrix: every operation, sent with every wrong principal, gets the documented
 * refusal. The cases are generated from the routes as the app declares them (`declaredRoutes`:
 * method, path, audience), so a new route is in the matrix the moment it exists; what the matrix
 * needs to know about a route (an id for each path parameter, a valid body) is asked for by name,
 * and a route it cannot build a request for fails here instead of being left out.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKey, operatorPrincipal } from '../../api/auth.ts';
import { audienceOf, isDocumented, type DeclaredRoute } from '../../api/routing.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { buildWorld, type World } from '../support/world.ts';

let stack: TestStack;
let world: World;
let doc: any;
let revokedOperatorKey: string;
let revokedClientKey: string;

const send = async (method: string, url: string, key: string | undefined, body?: unknown) => {
  const res = await stack.app.inject({
    method: method as 'GET',
    url,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined };
};

beforeAll(async () => {
  stack = await startTestStack();
  world = await buildWorld(send, stack.operatorKey);
  doc = (await send('GET', '/openapi.json', undefined)).body;
  const revoke = async (created: { apiKey: string; keyId: string }) => {
    expect((await send('DELETE', `/v1/api-keys/${created.keyId}`, stack.operatorKey)).status).toBe(204);
    return created.apiKey;
  };
  // Keys of the right kind for each audience, revoked.
  revokedOperatorKey = await revoke(await createApiKey(stack.engine.database.db, operatorPrincipal));
  revokedClientKey = await revoke((await send('POST', `/v1/clients/${world.stranger.id}/api-keys`, stack.operatorKey)).body);
});
afterAll(() => stack?.stop());

/** An id for each path parameter, by the route it appears in: owned by the source or the seller. */
function pathFor(route: DeclaredRoute): string {
  const ids: Record<string, (url: string) => string | undefined> = {
    id: (url) =>
      url.startsWith('/v1/contracting-companies/') ? world.companyId
      : url.startsWith('/v1/clients/') ? world.seller.id
      : url.startsWith('/v1/connections/') ? world.connectionId
      : url.startsWith('/v1/offers/') ? world.sharedOfferId
      : url.startsWith('/v1/carts/') ? world.cartId
      : url.startsWith('/v1/payouts/') ? world.payoutRowId
      : url.startsWith('/v1/machines/live/') ? world.connectionId
      : undefined,
    module: () => world.module,
    keyId: () => world.viewerKeyId, // refused before the handler: nothing is revoked
    orderId: () => world.orderId,
    version: () => '0'.repeat(64), // refused before the handler: nothing is activated
    // Refused before the delivery is looked up (the stranger does not see the connection).
    deliveryId: () => '01900000-0000-7000-8000-000000000000',
  };
  return route.url.replace(/:(\w+)/g, (_, name: string) => {
    const id = ids[name]?.(route.url);
    if (!id) throw new Error(`the matrix has no id for :${name} of ${route.method} ${route.url}: add one to pathFor`);
    return id;
  });
}

/** A valid body for each route that reads one, so a request gets past validation to the resource check. */
function bodyFor(route: DeclaredRoute): unknown {
  const bodies: Record<string, () => unknown> = {
    'POST /v1/contracting-companies': () => ({ name: 'Verlag' }),
    'POST /v1/clients': () => ({ contractingCompanyId: world.companyId, name: 'Neu', email: 'neu@example.test', language: 'de' }),
    'POST /v1/rule-sets': () => undefined, // sent as YAML: refused before the body is read
    'POST /v1/rule-sets/preview': () => undefined, // the same
    'POST /v1/connections': () => ({ targetClientId: world.seller.id, offerAccess: true }),
    'PATCH /v1/connections/:id': () => ({ offerAccess: false }),
    'PUT /v1/connections/:id/callback': () => ({ url: 'https://callbacks.example.com/ccx', secret: 'matrix-secret-0123456789' }),
    'POST /v1/claims': () => ({ code: 'no-such-code', customerId: 'K-1' }),
    'POST /v1/offers': () => ({ title: 'Abo', priceMinor: 1, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'K' }] }),
    'PATCH /v1/offers/:id': () => ({ title: 'Abo plus' }),
    'POST /v1/carts': () => ({ title: 'Korb', items: [{ offerId: world.ownOfferId, mandatory: true }] }),
    'PUT /v1/carts/:id/items': () => ({ items: [{ offerId: world.ownOfferId, mandatory: true }] }),
    'POST /v1/carts/:id/purchases': () => ({
      orderId: 'order-matrix',
      customerId: 'kunde',
      paymentMethod: 'PAYPAL',
      currency: 'EUR',
      items: [{ offerId: world.ownOfferId, amountMinor: 999 }],
    }),
    'POST /v1/orders/:orderId/refunds': () => ({ refundId: 'refund-matrix', items: [{ offerId: world.sharedOfferId, amountMinor: 1 }] }),
    'POST /v1/orders/:orderId/chargebacks': () => ({ chargebackId: 'cb-matrix', items: [{ offerId: world.sharedOfferId, amountMinor: 1 }] }),
    'POST /v1/orders/:orderId/payments': () => ({ paymentId: 'pay-matrix', items: [{ offerId: world.sharedOfferId, amountMinor: 1 }] }),
    'PUT /v1/payouts/:id/paid-status': () => ({ paidStatus: 'PAID' }),
    'POST /v1/payouts/mark-paid': () => ({ until: new Date().toISOString() }),
    'POST /v1/machines/connection/simulate': () => ({
      state: 'invited', event: 'accept', actor: 'target',
      scenario: { sameCompany: true, sourceModuleActive: true, targetModuleActive: true, hasCallback: false, offerAccess: true, blockedBy: null },
    }),
    'POST /v1/machines/cart/simulate': () => ({ state: 'draft', event: 'activate', actor: 'seller', scenario: { externalItem: true, externalAvailable: true } }),
  };
  const key = `${route.method} ${route.url}`;
  if (!route.options.schema?.body) return undefined;
  if (!bodies[key]) throw new Error(`the matrix has no body for ${key}: add one to bodyFor`);
  return bodies[key]();
}

interface Case {
  who: string;
  key: () => string | undefined;
  status: number;
  code: string;
}

/** The wrong principals of a route and the refusal each must get. */
function wrongPrincipals(route: DeclaredRoute): Case[] {
  const audience = audienceOf(route);
  if (audience === 'public') return [];
  const cases: Case[] = [
    { who: 'no key', key: () => undefined, status: 401, code: 'UNAUTHENTICATED' },
    { who: 'a revoked key', key: () => (audience === 'operator' ? revokedOperatorKey : revokedClientKey), status: 401, code: 'UNAUTHENTICATED' },
  ];
  if (audience === 'reader') {
    // Any key reads; a client only its own (every resource of this world is the source's or the seller's).
    cases.push({ who: 'another client', key: () => world.stranger.apiKey, status: 404, code: 'NOT_FOUND' });
  } else if (audience === 'operator') {
    cases.push({ who: 'a client', key: () => world.source.apiKey, status: 403, code: 'FORBIDDEN_ACTOR' });
    if (route.method !== 'GET') cases.push({ who: 'the viewer (writes)', key: () => world.viewerKey, status: 403, code: 'FORBIDDEN_ACTOR' });
  } else {
    cases.push({ who: 'the operator', key: () => stack.operatorKey, status: 403, code: 'FORBIDDEN_ACTOR' });
    cases.push({ who: 'the viewer', key: () => world.viewerKey, status: 403, code: 'FORBIDDEN_ACTOR' });
    // Someone else's resource: every client resource in this world belongs to the source or the seller.
    if (route.url.includes(':')) cases.push({ who: 'another client', key: () => world.stranger.apiKey, status: 404, code: 'NOT_FOUND' });
  }
  return cases;
}

const routes = () => stack.app.declaredRoutes.filter(isDocumented);
const docPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('authorization matrix', () => {
  test('covers every documented operation, and every operation the app declares is documented', () => {
    const declared = routes().map((r) => `${r.method} ${docPath(r.url)}`).sort();
    const documented = Object.entries(doc.paths as Record<string, object>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(declared).toEqual(documented);
    expect(routes().filter((r) => audienceOf(r) === 'public').map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /health',
      // The /machines page's policy and simulator: no client data.
      'GET /v1/machines',
      'POST /v1/machines/connection/simulate',
      'POST /v1/machines/cart/simulate',
    ]);
  });

  test('every wrong principal gets the documented refusal on every operation', async () => {
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes()) {
      const url = pathFor(route);
      const body = bodyFor(route);
      const documented = Object.keys(doc.paths[docPath(route.url)][route.method.toLowerCase()].responses).map(Number);
      for (const c of wrongPrincipals(route)) {
        const res = await send(route.method, url, c.key(), body);
        sent++;
        const label = `${route.method} ${route.url} as ${c.who}`;
        if (res.status !== c.status || res.body?.error?.code !== c.code) failures.push(`${label}: ${res.status} ${JSON.stringify(res.body)}`);
        if (!documented.includes(c.status)) failures.push(`${label}: ${c.status} is not documented`);
      }
    }
    expect(failures).toEqual([]);
    // ~40 operations, 3–4 wrong principals each (printed for the record).
    console.log(`authorization matrix: ${sent} requests over ${routes().length} operations`);
    expect(sent).toBeGreaterThan(routes().length * 3);
  });

  test('the viewer reads every operator read, and the right client reaches its resources', async () => {
    for (const route of routes().filter((r) => audienceOf(r) === 'operator' && r.method === 'GET')) {
      const res = await send('GET', pathFor(route), world.viewerKey);
      expect(res.status, `${route.url}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    // Reader routes: the viewer and the operator read any, the party its own.
    for (const route of routes().filter((r) => audienceOf(r) === 'reader')) {
      for (const key of [world.viewerKey, stack.operatorKey, world.source.apiKey]) expect((await send('GET', pathFor(route), key)).status, route.url).toBe(200);
    }
    // The owners are not refused where the stranger is (so the 404s above are about the caller).
    expect((await send('GET', `/v1/connections/${world.connectionId}`, world.source.apiKey)).status).toBe(200);
    expect((await send('GET', `/v1/offers/${world.sharedOfferId}`, world.seller.apiKey)).status).toBe(200);
    expect((await send('GET', `/v1/carts/${world.cartId}`, world.seller.apiKey)).status).toBe(200);
    expect((await send('PUT', `/v1/payouts/${world.payoutRowId}/paid-status`, world.source.apiKey, { paidStatus: 'OPEN' })).status).toBe(200);
    // The change feed answers each client its own changes (the stranger's feed has none of the world's).
    expect((await send('GET', '/v1/events', world.seller.apiKey)).body.items.length).toBeGreaterThan(0);
    expect((await send('GET', '/v1/events', world.stranger.apiKey)).body.items).toEqual([]);
  });
});
