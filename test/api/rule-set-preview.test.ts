/**
 * Changing policy safely (issue 15), end to end on the real dev server: a published rule set,
 * connections, carts and purchases made over HTTP, then previews of a stricter draft and of a
 * draft with other payout shares — the exact lists and sums, and nothing changed in the database or
 * in any workflow — then publishing exactly what was previewed and rolling back. This file
 * publishes, so it has a database of its own (`previews`, test/global-setup.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../api/rule-set.service.ts';
import { stateQuery } from '../../workflows/messages.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { call, clientCalls } from './support.ts';

let stack: TestStack;
const defaultRules = readFileSync(DEFAULT_RULES_FILE, 'utf8');
const yaml = { 'content-type': 'application/yaml' };
const { ok } = clientCalls(() => stack.app);
const operator = (method: 'GET' | 'POST', url: string, body?: string) => call(stack.app, stack.operatorKey, method, url, body, body === undefined ? {} : yaml);

const CALLBACK_MESSAGE = '      message: a connection to a client of another contracting company needs a callback {url, secret}\n';
/** In force while the world is made: invitations accepted only with offer access; the source gets 70 %. */
const base = defaultRules
  .replace('name: default', 'name: base')
  .replace('guards:\n', 'guards:\n  connection.accept:\n    - id: accept-needs-offer-access\n      require: connection.offerAccess\n      message: accept only with offer access\n')
  .replace(/\npayouts:[\s\S]*$/, '\npayouts:\n  - id: source-gets-70\n    when: "true"\n    shareBasisPoints: "7000"\n');
/** Stricter: within the company only, one item per cart, named carts; shorter invitations, no block mail; same shares. */
const stricter = defaultRules
  .replace('name: default', 'name: stricter')
  .replace('guards:\n', `guards:
  connection.accept:
    - id: accept-within-company-only
      require: source.company.id == target.company.id
      message: "{{ target.name }} may only accept within its contracting company"
  cart.activate:
    - id: at-most-one-item
      require: size(cart.items) <= 1
      message: a cart sells one offer
  cart.setItems:
    - id: named-carts
      require: cart.title != "Entwurf"
      message: give the cart a real name
`)
  .replace(CALLBACK_MESSAGE, `${CALLBACK_MESSAGE}    - id: same-company-only
      require: source.company.id == target.company.id
      message: "{{ source.name }} may only invite within its contracting company"
`)
  .replace('invitationTtl: P30D', 'invitationTtl: P14D')
  .replace('connection.block: { template: blocked, recipient: otherParty, enabled: true }', 'connection.block: { template: blocked, recipient: otherParty, enabled: false }')
  .replace(/\npayouts:[\s\S]*$/, '\npayouts:\n  - id: source-gets-70\n    when: "true"\n    shareBasisPoints: "7000"\n');
/** The base policy with other shares: half of big items, a quarter of the rest. */
const otherShares = base
  .replace('name: base', 'name: other-shares')
  .replace(/\npayouts:[\s\S]*$/, '\npayouts:\n  - id: big-items-half\n    when: "item.amountMinor >= 100000"\n    shareBasisPoints: "5000"\n  - id: quarter\n    when: "true"\n    shareBasisPoints: "2500"\n');

const callback = { url: 'https://hooks.example.test/ccx', secret: 'a-long-enough-callback-secret' };
let baseVersion: string;
let w: Awaited<ReturnType<typeof world>>;

/**
 * Nord: A, B, C and the seller S; Fern: X. Open: A→B invited without offer access, A→S active,
 * C→S blocked, A→X invited across companies; C→B declined (final). S's carts: "Kombi" active
 * (own offer + A's), "Entwurf" draft, "Alt" archived. Two sales of A's offer through "Kombi", one
 * partly refunded.
 */
async function world() {
  const [a, b, c, s] = (await companyOverHttp(stack, ['Quelle', 'Bote', 'Kurier', 'Verkauf'])).clients as [HttpParty, HttpParty, HttpParty, HttpParty];
  const [x] = (await companyOverHttp(stack, ['Fern'])).clients as [HttpParty];
  const invite = (from: HttpParty, to: HttpParty, body: object = {}) => ok(from, 'POST', '/v1/connections', { targetClientId: to.id, offerAccess: true, ...body }, 201);
  const ab = await invite(a, b, { offerAccess: false });
  const as = await invite(a, s);
  await ok(s, 'POST', `/v1/connections/${as.id}/accept`);
  const cs = await invite(c, s);
  await ok(s, 'POST', `/v1/connections/${cs.id}/accept`);
  await ok(s, 'POST', `/v1/connections/${cs.id}/block`);
  const ax = await invite(a, x, { callback });
  const cb = await invite(c, b);
  await ok(b, 'POST', `/v1/connections/${cb.id}/decline`);

  const offer = (owner: HttpParty, body: object) =>
    ok(owner, 'POST', '/v1/offers', { priceMinor: 999, currency: 'EUR', crossClient: false, products: [{ name: 'Abo', costCenter: 'KST-1' }], ...body }, 201);
  const own = await offer(s, { title: 'Hausabo' });
  const ext = await offer(a, { title: 'Partnerabo', priceMinor: 1999, crossClient: true, connectedClientIds: [s.id] });
  const kombi = await ok(s, 'POST', '/v1/carts', { title: 'Kombi', items: [{ offerId: own.id, mandatory: true }, { offerId: ext.id, mandatory: false }] }, 201);
  await ok(s, 'POST', `/v1/carts/${kombi.id}/activate`);
  const entwurf = await ok(s, 'POST', '/v1/carts', { title: 'Entwurf', items: [{ offerId: own.id, mandatory: true }] }, 201);
  const alt = await ok(s, 'POST', '/v1/carts', { title: 'Alt', items: [{ offerId: own.id, mandatory: true }] }, 201);
  await ok(s, 'POST', `/v1/carts/${alt.id}/archive`);
  const sale = (orderId: string, items: Array<[string, number]>) =>
    ok(s, 'POST', `/v1/carts/${kombi.id}/purchases`, { orderId, customerId: 'KUNDE-1', paymentMethod: 'PAYPAL', currency: 'EUR', items: items.map(([offerId, amountMinor]) => ({ offerId, amountMinor })) }, 201);
  await sale('ORDER-1', [[own.id, 999], [ext.id, 1999]]); // A's share 1999 × 70 % = 1399.3 → 1399
  await sale('ORDER-2', [[ext.id, 120_000]]); // 84000
  // A partial refund of it takes back 20000 × 70 % = 14000 (the order's basis points).
  await ok(s, 'POST', '/v1/orders/ORDER-2/refunds', { refundId: 'REFUND-1', items: [{ offerId: ext.id, amountMinor: 20_000 }] }, 201);
  return { a, b, c, s, x, ab, as, cs, ax, cb, kombi, entwurf, alt, own };
}

const TABLES = ['connections', 'connection_history', 'carts', 'cart_sources', 'offers', 'offer_targets', 'pair_availability', 'orders', 'payout_rows', 'rule_sets', 'audit_log', 'mails', 'contract_modules'] as const;
async function databaseState(): Promise<string> {
  const { db } = stack.engine.database;
  const tables: Record<string, unknown[]> = {};
  for (const t of TABLES) tables[t] = ((await db.selectFrom(t).selectAll().execute()) as unknown[]).map((r) => JSON.stringify(r)).sort();
  return JSON.stringify(tables);
}
/** Each entity workflow's status, history length and state version. */
async function workflowState(ids: string[]): Promise<unknown[]> {
  return Promise.all(ids.map(async (id) => {
    const handle = stack.engine.client.workflow.getHandle(id);
    const d = await handle.describe();
    const q = d.status.name === 'RUNNING' ? await handle.query(stateQuery) : null;
    return { id, status: d.status.name, historyLength: d.historyLength, version: q?.version, ruleSetVersion: q?.ruleSetVersion };
  }));
}

beforeAll(async () => {
  stack = await startTestStack({ database: 'previews' });
  const published = await operator('POST', '/v1/rule-sets', base);
  expect(published.statusCode, published.body).toBe(201);
  baseVersion = published.json().version;
  w = await world();
});
afterAll(async () => {
  await operator('POST', '/v1/rule-sets', defaultRules);
  await stack?.stop();
});

describe('impact preview', () => {
  test('a stricter draft and a draft with other shares: the exact lists and sums; nothing in the database or any workflow changes', async () => {
    // Let the outbox and the fan-outs finish what the world started, so that only a preview could change anything.
    await expect.poll(async () => {
      const { db } = stack.engine.database;
      const pending = await db.selectFrom('mails').select('message_id').where('state', '=', 'pending').execute();
      const untold = await db.selectFrom('pair_availability').select('version').whereRef('version', '>', 'told_version').execute();
      return pending.length + untold.length;
    }, { timeout: 30_000 }).toBe(0);
    const workflows = [w.ab, w.as, w.cs, w.ax, w.cb, w.kombi, w.entwurf, w.alt].map((e: { workflowId: string }) => e.workflowId);
    const dbBefore = await databaseState();
    const wfBefore = await workflowState(workflows);

    const strict = await operator('POST', '/v1/rule-sets/preview', stricter);
    expect(strict.statusCode, strict.body).toBe(200);
    const p = strict.json();
    expect(p).toMatchObject({ name: 'stricter', activeVersion: baseVersion, partial: false, scanned: { connections: 4, carts: 2, payments: 3 } });
    expect(p.previewId).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.connections).toEqual([
      // A→B: without offer access the base refused accepting; the stricter draft no longer asks for it.
      { id: w.ab.id, event: 'connection.accept', verdict: 'allowed', rule: 'accept-needs-offer-access', code: null, message: null, ruleSetVersion: baseVersion, applies: 'next' },
      { id: w.ax.id, event: 'connection.invite', verdict: 'refused', rule: 'same-company-only', code: 'RULE_REJECTED', message: 'Quelle may only invite within its contracting company', ruleSetVersion: baseVersion, applies: 'admission' },
      { id: w.ax.id, event: 'connection.accept', verdict: 'refused', rule: 'accept-within-company-only', code: 'RULE_REJECTED', message: 'Fern may only accept within its contracting company', ruleSetVersion: baseVersion, applies: 'next' },
    ]);
    expect(p.carts).toEqual([
      { id: w.kombi.id, event: 'cart.activate', verdict: 'refused', rule: 'at-most-one-item', code: 'RULE_REJECTED', message: 'a cart sells one offer', ruleSetVersion: baseVersion, applies: 'admission' },
      { id: w.entwurf.id, event: 'cart.setItems', verdict: 'refused', rule: 'named-carts', code: 'RULE_REJECTED', message: 'give the cart a real name', ruleSetVersion: baseVersion, applies: 'next' },
    ]);
    expect(p.timers).toEqual({ invitationTtl: { current: 'P30D', draft: 'P14D' } });
    expect(p.mails).toEqual([{ event: 'connection.block', current: 'mail "blocked" to the other party', draft: 'no mail' }]);
    expect(p.payouts).toEqual([
      // 1399 + 84000 − 14000 (the refund) under both: the stricter draft keeps the shares.
      { sourceClientId: w.a.id, connectedClientId: w.s.id, currency: 'EUR', currentShareMinor: 71_399, draftShareMinor: 71_399, rows: 3, reversalRows: 1, refusedRows: 0 },
    ]);
    expect(p.changes.map((c: { area: string; rule?: string; event?: string; change: string }) => [c.area, c.change, c.event, c.rule])).toEqual([
      ['name', 'changed', undefined, undefined],
      ['guard', 'added', 'connection.invite', 'same-company-only'],
      ['guard', 'removed', 'connection.accept', 'accept-needs-offer-access'],
      ['guard', 'added', 'connection.accept', 'accept-within-company-only'],
      ['guard', 'added', 'cart.activate', 'at-most-one-item'],
      ['guard', 'added', 'cart.setItems', 'named-carts'],
      ['timer', 'changed', 'connection.expire', undefined],
      ['mail', 'changed', 'connection.block', undefined],
    ]);

    const shares = await operator('POST', '/v1/rule-sets/preview', otherShares);
    expect(shares.statusCode, shares.body).toBe(200);
    expect(shares.json()).toMatchObject({ partial: false, connections: [], carts: [], mails: [], timers: { invitationTtl: { current: 'P30D', draft: 'P30D' } } });
    expect(shares.json().payouts).toEqual([
      // 1999 × 25 % = 499.75 → 500; 120000 × 50 % = 60000; the refund at the order's 50 %: −10000
      { sourceClientId: w.a.id, connectedClientId: w.s.id, currency: 'EUR', currentShareMinor: 71_399, draftShareMinor: 50_500, rows: 3, reversalRows: 1, refusedRows: 0 },
    ]);

    expect(await databaseState()).toBe(dbBefore);
    expect(await workflowState(workflows)).toEqual(wfBefore);
    const stored = await stack.engine.database.db.selectFrom('rule_set_previews').select(['id', 'version']).where('id', 'in', [p.previewId, shares.json().previewId]).execute();
    expect(stored).toHaveLength(2);
  });

  test('a preview out of time says it is partial', async () => {
    const res = await operator('POST', '/v1/rule-sets/preview?budgetMs=0', stricter);
    expect(res.json()).toMatchObject({ partial: true, scanned: { connections: 0, carts: 0, payments: 0 }, connections: [], carts: [], payouts: [] });
  });

  test('a draft with errors, or one that drops a guard every rule set keeps, is 422 with located errors', async () => {
    const dropped = base.replace(/ {4}- id: callback-required\n(?: {6}.*\n)+/, '');
    const res = await operator('POST', '/v1/rule-sets/preview', dropped);
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'RULE_SET_INVALID', details: { errors: [expect.objectContaining({ code: 'RULES_INVARIANT', line: expect.any(Number), column: expect.any(Number) })] } });
    const published = await operator('POST', '/v1/rule-sets', dropped);
    expect([published.statusCode, published.json().error.details.errors[0].code]).toEqual([422, 'RULES_INVARIANT']);
  });
});

describe('publishing what was previewed, and rolling back', () => {
  test('a publish naming a preview of another draft is refused; the previewed text is published with what changed; activate rolls back and lists what stays pinned', async () => {
    const previewId = (await operator('POST', '/v1/rule-sets/preview', stricter)).json().previewId as string;
    const mismatch = await operator('POST', `/v1/rule-sets?preview=${previewId}`, otherShares);
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().error).toMatchObject({ code: 'RULE_REJECTED', details: { rule: 'preview-matches-draft', field: 'preview' } });
    expect((await operator('POST', '/v1/rule-sets?preview=0190f0a0-0000-7000-8000-000000000000', stricter)).statusCode).toBe(404);
    expect((await operator('GET', '/v1/rule-sets/active')).json().version).toBe(baseVersion);

    const published = await operator('POST', `/v1/rule-sets?preview=${previewId}`, stricter);
    expect(published.statusCode, published.body).toBe(201);
    const strictVersion = published.json().version as string;
    expect(published.json()).toMatchObject({ previousVersion: baseVersion });
    expect(published.json().changes).toContainEqual(expect.objectContaining({
      area: 'timer', text: 'Invitations expire 2 weeks after they are sent (was 30 days); this applies to invitations sent after publishing',
    }));

    // Made under the stricter version: pinned to it when the operator rolls back.
    const pinned = await ok(w.c, 'POST', '/v1/connections', { targetClientId: w.a.id, offerAccess: true }, 201);
    expect(pinned.ruleSetVersion).toBe(strictVersion);
    const cart = await ok(w.s, 'POST', '/v1/carts', { title: 'Neu', items: [{ offerId: w.own.id, mandatory: true }] }, 201);
    await expect.poll(async () => (await ok(w.s, 'GET', `/v1/carts/${cart.id}`)).ruleSetVersion).toBe(strictVersion);

    const rolledBack = await operator('POST', `/v1/rule-sets/${baseVersion}/activate`);
    expect(rolledBack.statusCode, rolledBack.body).toBe(200);
    expect(rolledBack.json()).toMatchObject({
      version: baseVersion, name: 'base', previousVersion: strictVersion,
      pinned: { connections: { count: 1, ids: [pinned.id] }, carts: { count: 1, ids: [cart.id] } },
    });
    expect((await operator('GET', '/v1/rule-sets/active')).json().version).toBe(baseVersion);
    const audit = (await operator('GET', '/v1/audit?action=rule-set.activated')).json().items;
    expect(audit[0]).toMatchObject({ actor: 'operator', subject: baseVersion, details: { name: 'base', previousVersion: strictVersion } });
    // Activating the active version changes nothing and records nothing.
    expect((await operator('POST', `/v1/rule-sets/${baseVersion}/activate`)).json()).toMatchObject({ previousVersion: baseVersion, pinned: { connections: { count: 0 } } });
    expect((await operator('GET', '/v1/audit?action=rule-set.activated')).json().items).toHaveLength(audit.length);
    expect((await operator('POST', `/v1/rule-sets/${'0'.repeat(64)}/activate`)).statusCode).toBe(404);
  });

  test('a preview that no longer tells what publishing does is refused: a partial one, or one made before another version became active', async () => {
    const partial = (await operator('POST', '/v1/rule-sets/preview?budgetMs=0', otherShares)).json();
    expect(partial.partial).toBe(true);
    const refused = await operator('POST', `/v1/rule-sets?preview=${partial.previewId}`, otherShares);
    expect([refused.statusCode, refused.json().error.details]).toEqual([422, { rule: 'preview-complete', field: 'preview' }]);

    const active = (await operator('GET', '/v1/rule-sets/active')).json().version as string;
    const current = (await operator('POST', '/v1/rule-sets/preview', otherShares)).json();
    expect(current).toMatchObject({ partial: false, activeVersion: active });
    // Someone publishes another version after the preview was made.
    const other = await operator('POST', '/v1/rule-sets', stricter);
    expect(other.statusCode, other.body).toBe(201);
    const stale = await operator('POST', `/v1/rule-sets?preview=${current.previewId}`, otherShares);
    expect([stale.statusCode, stale.json().error.details]).toEqual([422, { rule: 'preview-current', field: 'preview' }]);
    expect((await operator('GET', '/v1/rule-sets/active')).json().version).toBe(other.json().version); // nothing was published
    expect((await operator('POST', `/v1/rule-sets/${active}/activate`)).statusCode).toBe(200);
  });
});
