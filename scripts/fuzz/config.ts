/**
 * What the fuzzer gets to know about the seeded world (scripts/fuzz/run.ts): its ids, mixed into
 * generated values half of the time so requests reach real resources, and cursors the API issued.
 */
import type { Send, World } from '../../test/support/world.ts';

/**
 * Cursors are opaque: a made-up one is 400 however well it fits the document (a string). Valid
 * requests page with cursors the API issued, so the world gets a second item in every list and
 * each list is read once with limit=1. Answers path → cursor.
 */
export async function issuedCursors(send: Send, world: World, operatorKey: string): Promise<Map<string, string>> {
  const ok = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await send(method, url, key, body);
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await ok('POST', '/v1/connections', world.source.apiKey, { targetClientId: world.stranger.id, offerAccess: false });
  await ok('POST', '/v1/offers', world.source.apiKey, {
    title: 'Wochenendabo',
    priceMinor: 499,
    currency: 'EUR',
    crossClient: true,
    connectedClientIds: [world.seller.id],
    products: [{ name: 'Wochenende', costCenter: 'KST-200' }],
  });
  await ok('POST', '/v1/carts', world.seller.apiKey, { title: 'Entwurf', items: [{ offerId: world.ownOfferId, mandatory: true }] });
  // A callback on the world's connection, so the refund and a chargeback give it two deliveries.
  await ok('PUT', `/v1/connections/${world.connectionId}/callback`, world.source.apiKey, { url: 'https://callbacks.example.com/ccx', secret: 'fuzz-callback-secret-0123456789' });
  await ok('POST', `/v1/orders/${world.orderId}/refunds`, world.seller.apiKey, { refundId: 'refund-1', items: [{ offerId: world.sharedOfferId, amountMinor: 1 }] });
  await ok('POST', `/v1/orders/${world.orderId}/chargebacks`, world.seller.apiKey, { chargebackId: 'chargeback-1', items: [{ offerId: world.sharedOfferId, amountMinor: 1 }] });
  const lists: Array<[string, string]> = [
    ['/v1/connections', world.source.apiKey],
    ['/v1/offers', world.source.apiKey],
    ['/v1/offers/external', world.seller.apiKey],
    ['/v1/carts', world.seller.apiKey],
    ['/v1/payouts', world.seller.apiKey],
    ['/v1/audit', operatorKey],
    ['/v1/mails', operatorKey],
    ['/v1/events', world.seller.apiKey], // its cursor parameter is `after` (api.md)
  ];
  const cursors = new Map<string, string>();
  for (const [url, key] of lists) {
    const cursor = (await ok('GET', `${url}?limit=1`, key)).nextCursor as string | null;
    if (!cursor) throw new Error(`${url}?limit=1 issued no cursor: the world needs a second item there`);
    cursors.set(url, cursor);
  }
  const deliveries = (await ok('GET', `/v1/connections/${world.connectionId}/callbacks?limit=1`, world.source.apiKey)).nextCursor as string | null;
  if (!deliveries) throw new Error('/v1/connections/{id}/callbacks?limit=1 issued no cursor: the world needs a second delivery');
  cursors.set('/v1/connections/{id}/callbacks', deliveries);
  return cursors;
}

/** The fuzzer's configuration: ids of the world mixed into generated ones, and what counts as accepted. */
export function schemathesisConfig(world: World, cursors: ReadonlyMap<string, string>): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const resources = [world.companyId, world.source.id, world.seller.id, world.connectionId, world.sharedOfferId, world.ownOfferId, world.cartId, world.payoutRowId];
  const clients = [world.source.id, world.seller.id, world.stranger.id];
  return `# Written by scripts/fuzz/run.ts for one run.
# Nothing is kept between runs (and nothing lands in the work tree).
[cache]
enabled = false

[checks.positive_data_acceptance]
# A well-formed request the domain refuses is 422 (the contract's "the domain or the rule set says no"),
# e.g. a purchase of an offer the cart does not hold: valid by the schema, refused by the product.
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[dictionaries.resources]
values = ${list(resources)}
[dictionaries.clients]
values = ${list(clients)}
[dictionaries.offers]
values = ${list([world.sharedOfferId, world.ownOfferId])}
[dictionaries.orders]
values = ${list([world.orderId])}
[dictionaries.companies]
values = ${list([world.companyId])}
[dictionaries.modules]
values = ${list([world.module])}

[parameters]
"path.id" = { dictionary = "resources", probability = 0.5 }
"path.orderId" = { dictionary = "orders", probability = 0.5 }
"path.module" = { dictionary = "modules", probability = 0.5 }
"query.connectedClientId" = { dictionary = "clients", probability = 0.5 }
"body.targetClientId" = { dictionary = "clients", probability = 0.5 }
"body.contractingCompanyId" = { dictionary = "companies", probability = 0.5 }
"body.connectedClientId" = { dictionary = "clients", probability = 0.5 }
"body.items[*].offerId" = { dictionary = "offers", probability = 0.5 }
${[...cursors]
  .map(
    ([url, cursor]) => `
[[operations]]
include-path = "${url}"
parameters = { "query.${url === '/v1/events' ? 'after' : 'cursor'}" = ${JSON.stringify(cursor)} }
`,
  )
  .join('')}`;
}
