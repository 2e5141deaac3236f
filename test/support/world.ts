/**
 * A small world built over HTTP the way its users would: a company with the module on, a source
 * and a seller connected, a shared offer sold in the seller's active cart, one purchase with its
 * payout row, a stranger, a viewer key. Needs a worker. Used by the authorization tests (through
 * app.inject) and by the fuzz run (scripts/fuzz.ts, over the network): `send` is either.
 */
import { randomUUID } from 'node:crypto';
import { CROSS_CLIENT_MODULE } from '../../domain/connection.ts';

export type Send = (method: string, url: string, key: string | undefined, body?: unknown) => Promise<{ status: number; body: any }>;

export interface WorldClient {
  id: string;
  apiKey: string;
}

export interface World {
  companyId: string;
  module: string;
  viewerKey: string;
  viewerKeyId: string;
  source: WorldClient;
  seller: WorldClient;
  /** A client of the same company that takes part in nothing. */
  stranger: WorldClient;
  connectionId: string;
  /** The source's cross-client offer, shared with the seller. */
  sharedOfferId: string;
  /** The seller's own offer. */
  ownOfferId: string;
  cartId: string;
  /** The checkout's order id of the purchase (the seller's). */
  orderId: string;
  payoutRowId: string;
}

export async function buildWorld(send: Send, operatorKey: string): Promise<World> {
  const ok = async (expected: number, method: string, url: string, key: string, body?: unknown) => {
    const res = await send(method, url, key, body);
    if (res.status !== expected) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const company = await ok(201, 'POST', '/v1/contracting-companies', operatorKey, { name: 'Verlagsgruppe Nord' });
  await ok(204, 'PUT', `/v1/contracting-companies/${company.id}/modules/${CROSS_CLIENT_MODULE}`, operatorKey);
  const client = async (name: string, language: 'de' | 'en'): Promise<WorldClient> => {
    const created = await ok(201, 'POST', '/v1/clients', operatorKey, {
      contractingCompanyId: company.id,
      name,
      email: `${name.toLowerCase()}.${company.id.toLowerCase()}@example.test`,
      language,
    });
    return { id: created.client.id, apiKey: created.apiKey };
  };
  const source = await client('Morgenpost', 'de');
  const seller = await client('Abendblatt', 'en');
  const stranger = await client('Fremdblatt', 'de');
  const viewer = await ok(201, 'POST', '/v1/viewer-keys', operatorKey);

  const invited = await ok(201, 'POST', '/v1/connections', source.apiKey, { targetClientId: seller.id, offerAccess: true });
  await ok(200, 'POST', `/v1/connections/${invited.id}/accept`, seller.apiKey);
  const offer = (owner: WorldClient, title: string, sharedWith: string[]) =>
    ok(201, 'POST', '/v1/offers', owner.apiKey, {
      title,
      priceMinor: 999,
      currency: 'EUR',
      crossClient: sharedWith.length > 0,
      ...(sharedWith.length > 0 ? { connectedClientIds: sharedWith } : {}),
      products: [{ name: title, costCenter: 'KST-100' }],
    });
  const shared = await offer(source, 'Digitalabo Morgenpost', [seller.id]);
  const own = await offer(seller, 'Digitalabo Abendblatt', []);
  const cart = await ok(201, 'POST', '/v1/carts', seller.apiKey, {
    title: 'Kombiabo',
    items: [
      { offerId: own.id, mandatory: true },
      { offerId: shared.id, mandatory: false },
    ],
  });
  await ok(200, 'POST', `/v1/carts/${cart.id}/activate`, seller.apiKey);
  const orderId = `order-${randomUUID()}`;
  const order = await ok(201, 'POST', `/v1/carts/${cart.id}/purchases`, seller.apiKey, {
    orderId,
    customerId: 'kunde-4711',
    paymentMethod: 'PAYPAL',
    currency: 'EUR',
    items: [
      { offerId: own.id, amountMinor: 999 },
      { offerId: shared.id, amountMinor: 999 },
    ],
  });
  return {
    companyId: company.id,
    module: CROSS_CLIENT_MODULE,
    viewerKey: viewer.apiKey,
    viewerKeyId: viewer.keyId,
    source,
    seller,
    stranger,
    connectionId: invited.id,
    sharedOfferId: shared.id,
    ownOfferId: own.id,
    cartId: cart.id,
    orderId,
    payoutRowId: order.payouts[0].id,
  };
}
