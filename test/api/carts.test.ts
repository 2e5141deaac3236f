/**
 * Carts end to end: HTTP → API → Temporal (cart workflow, availability fan-out) → Postgres. The
 * connection, offers and modules are driven over HTTP too; a cart's status follows them without
 * anyone polling — the test waits for the fan-out to arrive.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { availabilitySignal, cartStateQuery, cartUpgradeRulesUpdate } from '../../workflows/cart.messages.ts';
import { compile, guardsFor } from '../rules/support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { call, clientCalls, type Method } from './support.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const operator = (method: Method, url: string) => call(stack.app, stack.operatorKey, method, url);

const { as, ok } = clientCalls(() => stack.app);

/** A source and a seller (target) connected with offer access, each with an offer; plus a stranger. */
async function world() {
  const company = await companyOverHttp(stack, ['Morgenpost', 'Abendblatt', 'Fremder']);
  const [source, seller, stranger] = company.clients as [HttpParty, HttpParty, HttpParty];
  const connection = await ok(source, 'POST', '/v1/connections', { targetClientId: seller.id, offerAccess: true }, 201);
  await ok(seller, 'POST', `/v1/connections/${connection.id}/accept`);
  const offer = (owner: HttpParty, body: object) =>
    ok(owner, 'POST', '/v1/offers', { priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }], ...body }, 201);
  const external = await offer(source, { title: 'Partnerabo', crossClient: true, connectedClientIds: [seller.id] });
  const own = await offer(seller, { title: 'Hausabo' });
  return { company, source, seller, stranger, connection, external, own, offer };
}
type World = Awaited<ReturnType<typeof world>>;

const items = (...list: Array<[{ id: string }, boolean]>) => list.map(([offer, mandatory]) => ({ offerId: offer.id, mandatory }));

async function activeCart(w: World, externalMandatory = true) {
  const cart = await ok(w.seller, 'POST', '/v1/carts', { title: 'Kombi', items: items([w.own, true], [w.external, externalMandatory]) }, 201);
  expect(cart).toMatchObject({ status: 'draft', currency: 'EUR', version: expect.any(Number) });
  expect(cart.items.map((i: { available: boolean }) => i.available)).toEqual([true, true]);
  return ok(w.seller, 'POST', `/v1/carts/${cart.id}/activate`);
}

/** Waits for the fan-out to reach the cart (it is asynchronous by design). */
async function eventually(w: World, cartId: string, status: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const cart = await ok(w.seller, 'GET', `/v1/carts/${cartId}`);
    if (cart.status === status || Date.now() > deadline) {
      expect(cart.status, JSON.stringify(cart)).toBe(status);
      return cart;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

describe('cart rules', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  test.each([
    ['no item', 'RULE_REJECTED', 'cart-needs-item', () => []],
    ['no mandatory item', 'RULE_REJECTED', 'cart-needs-mandatory-item', () => items([w.own, false])],
    ['an external offer without an own one', 'RULE_REJECTED', 'external-needs-own-offer', () => items([w.external, true])],
  ] as const)('%s: 422 %s', async (_name, code, rule, list) => {
    const res = await as(w.seller, 'POST', '/v1/carts', { title: 'x', items: list() });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code, details: { rule } });
  });

  test('offers in two currencies: 422 CURRENCY_MISMATCH', async () => {
    const chf = await w.offer(w.seller, { title: 'Schweiz', currency: 'CHF' });
    const res = await as(w.seller, 'POST', '/v1/carts', { title: 'x', items: items([w.own, true], [chf, false]) });
    expect(res.json().error.code).toBe('CURRENCY_MISMATCH');
  });

  test("an offer the seller may not sell (unknown, or another's not shared with it): 422 ITEM_UNAVAILABLE", async () => {
    const strangers = await w.offer(w.stranger, { title: 'Fremd' });
    for (const offerId of [strangers.id, '0190c0de-0000-7000-8000-00000000dead']) {
      const res = await as(w.seller, 'POST', '/v1/carts', { title: 'x', items: [{ offerId: w.own.id, mandatory: true }, { offerId, mandatory: false }] });
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toMatchObject({ code: 'ITEM_UNAVAILABLE', details: { offerId } });
    }
  });

  test('a refused cart leaves nothing behind', async () => {
    const before = (await ok(w.seller, 'GET', '/v1/carts')).items.length;
    await as(w.seller, 'POST', '/v1/carts', { title: 'x', items: [] });
    expect((await ok(w.seller, 'GET', '/v1/carts')).items.length).toBe(before);
  });

  test('items change in draft only', async () => {
    const cart = await ok(w.seller, 'POST', '/v1/carts', { title: 'Entwurf', items: items([w.own, true]) }, 201);
    const changed = await ok(w.seller, 'PUT', `/v1/carts/${cart.id}/items`, { items: items([w.own, true], [w.external, false]) });
    expect(changed.items).toHaveLength(2);
    expect(changed.version).toBeGreaterThan(cart.version);
    await ok(w.seller, 'POST', `/v1/carts/${cart.id}/activate`);
    const late = await as(w.seller, 'PUT', `/v1/carts/${cart.id}/items`, { items: items([w.own, true]) });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('INVALID_TRANSITION');
  });

  test('other clients never see a cart: 404 for reads and commands', async () => {
    const cart = await ok(w.seller, 'POST', '/v1/carts', { title: 'Privat', items: items([w.own, true]) }, 201);
    for (const [method, url] of [['GET', `/v1/carts/${cart.id}`], ['POST', `/v1/carts/${cart.id}/archive`]] as const) {
      expect((await as(w.source, method, url)).statusCode).toBe(404);
    }
    expect((await ok(w.source, 'GET', '/v1/carts')).items.map((c: { id: string }) => c.id)).not.toContain(cart.id);
  });

  test('a cart can be archived from draft, and is then final', async () => {
    const cart = await ok(w.seller, 'POST', '/v1/carts', { title: 'Weg', items: items([w.own, true]) }, 201);
    expect((await ok(w.seller, 'POST', `/v1/carts/${cart.id}/archive`)).status).toBe('archived');
    expect((await as(w.seller, 'POST', `/v1/carts/${cart.id}/activate`)).statusCode).toBe(409);
  });
});

describe('carts follow their connections', () => {
  test('block suspends a cart with a mandatory external item; unblock makes it active again', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.seller, 'POST', `/v1/connections/${w.connection.id}/block`);
    const suspended = await eventually(w, cart.id, 'suspended');
    expect(suspended.items.find((i: { offerId: string }) => i.offerId === w.external.id).available).toBe(false);
    expect((await as(w.seller, 'GET', '/v1/offers/external')).json().items).toEqual([]);
    await ok(w.seller, 'POST', `/v1/connections/${w.connection.id}/unblock`);
    await eventually(w, cart.id, 'active');
  });

  test('an optional external item is only not offered while blocked: the cart stays active', async () => {
    const w = await world();
    const cart = await activeCart(w, false);
    await ok(w.source, 'POST', `/v1/connections/${w.connection.id}/block`);
    const deadline = Date.now() + 20_000;
    let current = cart;
    while (Date.now() < deadline && current.items[1].available) current = await ok(w.seller, 'GET', `/v1/carts/${cart.id}`);
    expect(current).toMatchObject({ status: 'active' });
    expect(current.items[1].available).toBe(false);
  });

  test('offer access off suspends, on resumes', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.source, 'PATCH', `/v1/connections/${w.connection.id}`, { offerAccess: false });
    await eventually(w, cart.id, 'suspended');
    await ok(w.source, 'PATCH', `/v1/connections/${w.connection.id}`, { offerAccess: true });
    await eventually(w, cart.id, 'active');
  });

  test('the module switched off suspends, switched on resumes', async () => {
    const w = await world();
    const cart = await activeCart(w);
    const module = `/v1/contracting-companies/${w.company.id}/modules/CROSS_CLIENT_CONNECTIONS`;
    expect((await operator('DELETE', module)).statusCode).toBe(204);
    await eventually(w, cart.id, 'suspended');
    expect((await operator('PUT', module)).statusCode).toBe(204);
    await eventually(w, cart.id, 'active');
  });

  test('the offer no longer shared with the seller suspends; shared again, active', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.source, 'PATCH', `/v1/offers/${w.external.id}`, { crossClient: false, connectedClientIds: [] });
    await eventually(w, cart.id, 'suspended');
    await ok(w.source, 'PATCH', `/v1/offers/${w.external.id}`, { crossClient: true, connectedClientIds: [w.seller.id] });
    await eventually(w, cart.id, 'active');
  });

  test('end suspends; a new invitation, once accepted, brings the cart back', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.source, 'POST', `/v1/connections/${w.connection.id}/end`);
    await eventually(w, cart.id, 'suspended');
    const again = await ok(w.source, 'POST', '/v1/connections', { targetClientId: w.seller.id, offerAccess: true }, 201);
    expect(again.id).not.toBe(w.connection.id);
    await ok(w.seller, 'POST', `/v1/connections/${again.id}/accept`);
    await eventually(w, cart.id, 'active');
  });

  test('a stale availability signal is ignored', async () => {
    const w = await world();
    const cart = await activeCart(w);
    const handle = stack.engine.client.workflow.getHandle(cart.workflowId);
    const known = (await handle.query(cartStateQuery)).context.known as Record<string, { version: number }>;
    expect(known[w.source.id]!.version).toBeGreaterThan(0);
    await handle.signal(availabilitySignal, { sourceClientId: w.source.id, targetClientId: w.seller.id, version: 0, available: false, sharedOfferIds: [] });
    // A query is answered once the signal's workflow task has run.
    const state = await handle.query(cartStateQuery);
    expect(state).toMatchObject({ value: 'active', version: cart.version });
    expect((state.context.known as typeof known)[w.source.id]!.version).toBe(known[w.source.id]!.version);
    expect(await ok(w.seller, 'GET', `/v1/carts/${cart.id}`)).toMatchObject({ status: 'active', version: cart.version });
  });

  test('a suspended cart can be archived', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.seller, 'POST', `/v1/connections/${w.connection.id}/end`);
    await eventually(w, cart.id, 'suspended');
    expect((await ok(w.seller, 'POST', `/v1/carts/${cart.id}/archive`)).status).toBe('archived');
  });
});

describe('carts and rule sets', () => {
  test('a cart is pinned to the rule set active when it was created; upgradeRules moves it, and its guards then apply', async () => {
    const w = await world();
    const cart = await ok(w.seller, 'POST', '/v1/carts', { title: 'Gepinnt', items: items([w.own, true]) }, 201);
    expect(cart.ruleSetVersion).toMatch(/^[0-9a-f]{64}$/);
    const stricter = compile(guardsFor('cart.activate', '    - id: no-activation\n      require: "false"\n      message: carts stay drafts\n'));
    const handle = stack.engine.client.workflow.getHandle(cart.workflowId);
    const moved = await handle.executeUpdate(cartUpgradeRulesUpdate, { args: [{ ruleSet: stricter }] });
    expect(moved).toMatchObject({ ruleSetVersion: stricter.hash, version: cart.version + 1, status: 'draft' });
    const refused = await as(w.seller, 'POST', `/v1/carts/${cart.id}/activate`);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'RULE_REJECTED', details: { rule: 'no-activation' } });
  });
});

describe('carts in the Temporal UI', () => {
  test('current details, the rule set by name in the memo, a summary on each record, and an input that names the rule set by version', async () => {
    const w = await world();
    const cart = await activeCart(w);
    await ok(w.source, 'POST', `/v1/connections/${w.connection.id}/block`);
    await eventually(w, cart.id, 'suspended');
    const handle = stack.engine.client.workflow.getHandle(cart.workflowId);

    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(/^\*\*Abendblatt: Kombi\*\*: suspended, 2 item\(s\), 1 of them external/);
    expect(metadata.currentDetails).toContain('unavailable: Partnerabo (mandatory)');
    expect(metadata.currentDetails).toMatch(/rule set \*\*default\*\* [0-9a-f]{12} · version \d+/);
    const description = await handle.describe();
    expect(description.memo).toMatchObject({ cartId: cart.id, ruleSetName: 'default', ruleSetVersion: cart.ruleSetVersion });
    expect(await description.staticSummary()).toBe('Abendblatt: Kombi');

    const history = await handle.fetchHistory();
    const converter = stack.engine.client.options.loadedDataConverter.payloadConverter;
    const input = converter.fromPayload<Record<string, unknown>>(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
    expect(input).toMatchObject({ cartId: cart.id, ruleSetVersion: cart.ruleSetVersion });
    expect(input).not.toHaveProperty('ruleSet');
    const summaries = (history.events ?? []).filter((e) => e.userMetadata?.summary).map((e) => converter.fromPayload<string>(e.userMetadata!.summary!));
    expect(summaries).toEqual([
      'Abendblatt: Kombi', // the start
      `read rule set ${cart.ruleSetVersion.slice(0, 12)}`,
      'record create → draft',
      'record availabilityChanged → draft', // its source's availability, read once it knows its sources
      'record activate → active',
      'record availabilityChanged → suspended',
    ]);
  });
});
