/**
 * Offers end to end over HTTP: own offers (create, patch, list), their validation, and what a
 * target sees of a cross-client offer for every state of its connection.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newId } from '../support/database.ts';
import { companyOverHttp, startTestStack, type HttpParty as Party, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
beforeAll(async () => void (stack = await startTestStack()));
afterAll(() => stack?.stop());

const as = (p: Party, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers?: Record<string, string>) =>
  call(stack.app, p.apiKey, method, url, body, headers);
const company = (names: string[], moduleOn = true) => companyOverHttp(stack, names, { moduleOn });
const abo = (overrides: Record<string, unknown> = {}) =>
  ({ title: 'Digitalabo', priceMinor: 1299, currency: 'EUR', crossClient: false, products: [{ name: 'E-Paper', costCenter: 'KST-100' }], ...overrides });
const shared = (targets: Party[], overrides: Record<string, unknown> = {}) => abo({ crossClient: true, connectedClientIds: targets.map((t) => t.id), ...overrides });

async function createOffer(owner: Party, body: object) {
  const res = await as(owner, 'POST', '/v1/offers', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; version: number; updatedAt: string };
}
const errorOf = (res: { statusCode: number; json(): { error: { code: string; details?: { issues?: { field: string }[] } } } }) => ({
  status: res.statusCode,
  code: res.json().error.code,
  fields: res.json().error.details?.issues?.map((i) => i.field),
});
async function pairVersion(source: Party, target: Party): Promise<number> {
  const { db } = stack.engine.database;
  const row = await db.selectFrom('pair_availability').select('version').where('source_client_id', '=', source.id).where('target_client_id', '=', target.id).executeTakeFirst();
  return Number(row?.version ?? 0);
}

describe('own offers', () => {
  test('an owner creates a local offer and reads it back', async () => {
    const { clients: [owner] } = await company(['Morgenpost']);
    const created = await createOffer(owner!, abo({ title: '  Digitalabo  ', selfServiceHint: 'Kündigung online' }));
    expect(created).toMatchObject({ ownerClientId: owner!.id, title: 'Digitalabo', priceMinor: 1299, currency: 'EUR', crossClient: false, connectedClientIds: [], selfServiceHint: 'Kündigung online', version: 1 });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect((await as(owner!, 'GET', `/v1/offers/${created.id}`)).json()).toEqual(created);
  });

  test('a cross-client offer may name clients it has no connection to yet', async () => {
    const { clients: [owner, b, c] } = await company(['Quelle', 'Bote', 'Kurier']);
    const created = await createOffer(owner!, shared([c!, b!]));
    expect(created).toMatchObject({ crossClient: true, connectedClientIds: [b!.id, c!.id].sort() });
  });

  test('a patch changes the given fields and bumps the version', async () => {
    const { clients: [owner] } = await company(['Morgenpost']);
    const created = await createOffer(owner!, abo());
    const res = await as(owner!, 'PATCH', `/v1/offers/${created.id}`, { title: 'Wochenendabo', priceMinor: 899 });
    expect(res.json()).toMatchObject({ title: 'Wochenendabo', priceMinor: 899, currency: 'EUR', version: 2 });
    expect(Date.parse(res.json().updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
  });

  test('the currency cannot change', async () => {
    const { clients: [owner] } = await company(['Morgenpost']);
    const created = await createOffer(owner!, abo());
    const res = await as(owner!, 'PATCH', `/v1/offers/${created.id}`, { currency: 'CHF' });
    expect(errorOf(res)).toEqual({ status: 400, code: 'INVALID_REQUEST', fields: ['currency'] });
    expect((await as(owner!, 'GET', `/v1/offers/${created.id}`)).json()).toMatchObject({ currency: 'EUR', version: 1 });
  });

  test('a patch is checked as a whole: switching to cross-client needs connected clients', async () => {
    const { clients: [owner] } = await company(['Morgenpost']);
    const created = await createOffer(owner!, abo());
    const res = await as(owner!, 'PATCH', `/v1/offers/${created.id}`, { crossClient: true });
    expect([res.statusCode, res.json().error.details]).toEqual([422, { rule: 'cross-client-needs-target', field: 'connectedClientIds' }]);
  });

  test('the target and a stranger cannot patch: 404, nothing changes', async () => {
    const { clients: [owner, target, stranger] } = await company(['Quelle', 'Ziel', 'Fremd']);
    const created = await createOffer(owner!, shared([target!]));
    for (const other of [target!, stranger!]) {
      expect(errorOf(await as(other, 'PATCH', `/v1/offers/${created.id}`, { title: 'Gekapert' }))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    expect((await as(owner!, 'GET', `/v1/offers/${created.id}`)).json()).toEqual(created);
  });

  test('own offers are listed newest first and paged', async () => {
    const { clients: [owner, other] } = await company(['Morgenpost', 'Abendblatt']);
    const ids = [];
    for (const title of ['A', 'B', 'C']) ids.push((await createOffer(owner!, abo({ title }))).id);
    await createOffer(other!, abo());
    const page1 = (await as(owner!, 'GET', '/v1/offers?limit=2')).json();
    const page2 = (await as(owner!, 'GET', `/v1/offers?limit=2&cursor=${page1.nextCursor}`)).json();
    expect([...page1.items, ...page2.items].map((o: { id: string }) => o.id)).toEqual([...ids].reverse());
    expect(page2.nextCursor).toBeNull();
    expect(errorOf(await as(owner!, 'GET', '/v1/offers?cursor=kaputt'))).toMatchObject({ status: 400, fields: ['cursor'] });
    expect(errorOf(await as(owner!, 'GET', '/v1/offers?limit=101'))).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
  });

  test('an Idempotency-Key retry converges on the same offer', async () => {
    const { clients: [owner] } = await company(['Morgenpost']);
    const key = { 'idempotency-key': 'offer-1' };
    const first = await as(owner!, 'POST', '/v1/offers', abo(), key);
    const retry = await as(owner!, 'POST', '/v1/offers', abo(), key);
    expect([retry.statusCode, retry.json()]).toEqual([201, first.json()]);
    expect((await as(owner!, 'GET', '/v1/offers')).json().items).toHaveLength(1);
  });

  test('an operator key is refused with 403', async () => {
    const res = await call(stack.app, stack.operatorKey, 'POST', '/v1/offers', abo());
    expect(errorOf(res)).toMatchObject({ status: 403, code: 'FORBIDDEN_ACTOR' });
  });
});

describe('offer validation', () => {
  // Rules across fields, which the document's schema cannot state: 422 naming the rule and the field.
  const inconsistent: [string, (target: string) => Record<string, unknown>, string, string][] = [
    ['a cross-client offer without connected clients', () => abo({ crossClient: true }), 'cross-client-needs-target', 'connectedClientIds'],
    ['a local offer naming connected clients', (t) => abo({ connectedClientIds: [t] }), 'targets-need-cross-client', 'connectedClientIds'],
    [
      'a cost centre for a client the offer is not shared with',
      (t) => abo({ crossClient: true, connectedClientIds: [t], products: [{ name: 'E-Paper', costCenter: 'K', costCenters: { OTHER: 'K2' } }] }),
      'cost-centre-needs-target',
      'products.0.costCenters.OTHER',
    ],
  ];
  const invalid: [string, (target: string) => Record<string, unknown>, string][] = [
    ['a connected client named twice', (t) => abo({ crossClient: true, connectedClientIds: [t, t] }), 'connectedClientIds'],
    ['a lower-case currency', () => abo({ currency: 'eur' }), 'currency'],
    ['a fractional price', () => abo({ priceMinor: 12.5 }), 'priceMinor'],
    ['a negative price', () => abo({ priceMinor: -1 }), 'priceMinor'],
    ['a blank title', () => abo({ title: '   ' }), 'title'],
    ['no products', () => abo({ products: [] }), 'products'],
    ['a cost centre over 64 characters', () => abo({ products: [{ name: 'E-Paper', costCenter: 'K'.repeat(65) }] }), 'products.0.costCenter'],
    ['an unknown field', () => abo({ ownerClientId: 'X' }), 'ownerClientId'],
  ];
  let owner: Party;
  let target: Party;
  beforeAll(async () => {
    [owner, target] = (await company(['Quelle', 'Ziel'])).clients as [Party, Party];
  });
  test.for(invalid)('%s is 400 naming the field', async ([, body, field]) => {
    expect(errorOf(await as(owner, 'POST', '/v1/offers', body(target.id)))).toEqual({ status: 400, code: 'INVALID_REQUEST', fields: [field] });
  });

  test.for(inconsistent)('%s is 422 RULE_REJECTED naming the rule and the field', async ([, body, rule, field]) => {
    const res = await as(owner, 'POST', '/v1/offers', body(target.id));
    expect([res.statusCode, res.json().error.code, res.json().error.details]).toEqual([422, 'RULE_REJECTED', { rule, field }]);
  });

  test('an unknown connected client is 404 TARGET_NOT_FOUND', async () => {
    const { clients: [owner] } = await company(['Quelle']);
    const res = await as(owner!, 'POST', '/v1/offers', abo({ crossClient: true, connectedClientIds: [newId()] }));
    expect(errorOf(res)).toMatchObject({ status: 404, code: 'TARGET_NOT_FOUND' });
  });

  test('the owner as its own connected client is 422 SELF_CONNECTION', async () => {
    const { clients: [owner] } = await company(['Quelle']);
    expect(errorOf(await as(owner!, 'POST', '/v1/offers', shared([owner!])))).toMatchObject({ status: 422, code: 'SELF_CONNECTION' });
  });

  test('a cross-client offer needs the module of the owner’s company; a local one does not', async () => {
    const { clients: [owner, target] } = await company(['Quelle', 'Ziel'], false);
    expect(errorOf(await as(owner!, 'POST', '/v1/offers', shared([target!])))).toMatchObject({ status: 422, code: 'CONTRACT_MODULE_INACTIVE' });
    expect((await as(owner!, 'GET', '/v1/offers')).json().items).toEqual([]);
    await createOffer(owner!, abo());
  });
});

describe('pair availability', () => {
  test('creating a cross-client offer bumps the version of each pair it names', async () => {
    const { clients: [owner, b, c] } = await company(['Quelle', 'Bote', 'Kurier']);
    const before = [await pairVersion(owner!, b!), await pairVersion(owner!, c!)];
    await createOffer(owner!, shared([b!, c!]));
    expect(await pairVersion(owner!, b!)).toBeGreaterThan(before[0]!);
    expect(await pairVersion(owner!, c!)).toBeGreaterThan(before[1]!);
  });

  test('a patch that removes a target bumps the removed pair too', async () => {
    const { clients: [owner, b, c] } = await company(['Quelle', 'Bote', 'Kurier']);
    const created = await createOffer(owner!, shared([b!, c!]));
    const before = await pairVersion(owner!, c!);
    const res = await as(owner!, 'PATCH', `/v1/offers/${created.id}`, { connectedClientIds: [b!.id] });
    expect(res.json()).toMatchObject({ connectedClientIds: [b!.id], version: 2 });
    expect(await pairVersion(owner!, c!)).toBeGreaterThan(before);
  });
});

type State = 'invited' | 'active' | 'blocked' | 'ended' | 'none';
const STATES: State[] = ['invited', 'active', 'blocked', 'ended', 'none'];
const STEPS: Record<State, ['target' | 'source', string][]> = {
  none: [],
  invited: [],
  active: [['target', 'accept']],
  blocked: [['target', 'accept'], ['target', 'block']],
  ended: [['target', 'accept'], ['source', 'end']],
};
const onOff = (b: boolean) => (b ? 'on' : 'off');
const row = (state: State, access: boolean, moduleOn: boolean, visible = state === 'active' && access && moduleOn) =>
  ({ state, access, moduleOn, visible, name: `${state === 'none' ? 'no' : state} connection, offer access ${onOff(access)}, module ${onOff(moduleOn)}: ${visible ? 'visible' : 'invisible'}` });
const MATRIX = STATES.flatMap((state) => [true, false].flatMap((access) => [true, false].map((moduleOn) => row(state, access, moduleOn))));
const key = (r: { state: State; access: boolean; moduleOn: boolean }) => `${r.state}/${r.access}/${r.moduleOn}`;

/** Offer access off is switched by PATCH while invited, before the rest of the lifecycle. */
async function connect(source: Party, target: Party, state: State, access: boolean): Promise<void> {
  if (state === 'none') return;
  const invited = await as(source, 'POST', '/v1/connections', { targetClientId: target.id, offerAccess: true });
  expect(invited.statusCode, invited.body).toBe(201);
  const url = `/v1/connections/${invited.json().id}`;
  if (!access) expect((await as(source, 'PATCH', url, { offerAccess: false })).statusCode).toBe(200);
  for (const [who, command] of STEPS[state]) expect((await as(who === 'source' ? source : target, 'POST', `${url}/${command}`)).statusCode).toBe(200);
}

describe('external offers', () => {
  const targets = new Map<string, Party>();
  const offers = new Map<boolean, string>();
  let stranger: Party;
  let [unshared, local] = ['', ''];

  beforeAll(async () => {
    for (const moduleOn of [true, false]) {
      const rows = MATRIX.filter((r) => r.moduleOn === moduleOn);
      const { id: companyId, clients: [source, ...rest] } = await company(['Quelle', ...rows.map((_, i) => `Ziel${i}`)]);
      rows.forEach((r, i) => targets.set(key(r), rest[i]!));
      const all = rows.map((r) => targets.get(key(r))!);
      const own = targets.get(key({ state: 'active', access: true, moduleOn }))!;
      const costCenters = { [own.id]: 'KST-EIGEN', [all[0]!.id]: 'KST-ANDERE' };
      const products = [{ name: 'E-Paper', costCenter: 'KST-ALLG', costCenters }, { name: 'Print', costCenter: 'KST-DRUCK' }];
      offers.set(moduleOn, (await createOffer(source!, shared(all, { products }))).id);
      if (moduleOn) {
        unshared = (await createOffer(source!, shared([all[0]!]))).id;
        local = (await createOffer(source!, abo())).id;
      }
      await Promise.all(rows.map((r) => connect(source!, targets.get(key(r))!, r.state, r.access)));
      if (!moduleOn) expect((await call(stack.app, stack.operatorKey, 'DELETE', `/v1/contracting-companies/${companyId}/modules/CROSS_CLIENT_CONNECTIONS`)).statusCode).toBe(204);
    }
    stranger = (await company(['Fremd'])).clients[0]!;
  });

  test.for(MATRIX.map((r) => [r.name, r] as const))('%s', async ([, { visible, ...row }]) => {
    const target = targets.get(key(row))!;
    const offerId = offers.get(row.moduleOn)!;
    const list = (await as(target, 'GET', '/v1/offers/external')).json();
    expect(list.items.map((o: { id: string }) => o.id)).toEqual(visible ? [offerId] : []);
    expect((await as(target, 'GET', `/v1/offers/${offerId}`)).statusCode).toBe(visible ? 200 : 404);
  });

  test('a stranger never sees a shared offer', async () => {
    expect((await as(stranger, 'GET', '/v1/offers/external')).json().items).toEqual([]);
    expect(errorOf(await as(stranger, 'GET', `/v1/offers/${offers.get(true)}`))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  test('offers not shared with the target stay invisible on an active connection', async () => {
    const target = targets.get(key({ state: 'active', access: true, moduleOn: true }))!;
    for (const id of [unshared, local]) expect((await as(target, 'GET', `/v1/offers/${id}`)).statusCode).toBe(404);
  });

  test('the target sees its own cost centres and no other targets', async () => {
    const target = targets.get(key({ state: 'active', access: true, moduleOn: true }))!;
    const res = await as(target, 'GET', `/v1/offers/${offers.get(true)}`);
    expect(res.json().products).toEqual([{ name: 'E-Paper', costCenter: 'KST-EIGEN' }, { name: 'Print', costCenter: 'KST-DRUCK' }]);
    expect(res.json()).not.toHaveProperty('connectedClientIds');
    for (const other of [...targets.values()].filter((t) => t !== target)) expect(res.body).not.toContain(other.id);
    expect(res.body).not.toContain('KST-ANDERE');
  });
});
