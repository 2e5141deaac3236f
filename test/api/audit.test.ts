/**
 * The audit log: who switched modules, created or revoked keys, marked payout rows PAID — each
 * change performed over HTTP and read back from GET /v1/audit, written in the transaction of the
 * change (it carries the change's own timestamp), and nothing can change or delete an entry.
 * Rule sets (publish, upgrade) are recorded too: test/api/rule-sets.test.ts, which owns the
 * database where the active rule set may change.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lookupPrefix } from '../../api/auth.ts';
import { findApiKeyByPrefix } from '../../db/api-key.repository.ts';
import { payoutFixtures } from './payouts.support.ts';
import { companyOverHttp, startTestStack, type HttpParty, type TestStack } from '../support/stack.ts';
import { call } from './support.ts';

let stack: TestStack;
let operatorKeyId: string;
let companyId: string;
let source: HttpParty;
let seller: HttpParty;
const fixtures = payoutFixtures(() => stack);

beforeAll(async () => {
  stack = await startTestStack();
  operatorKeyId = (await keyIdOf(stack.operatorKey))!;
  const company = await companyOverHttp(stack, ['Morgenpost', 'Abendblatt'], { moduleOn: false });
  companyId = company.id;
  [source, seller] = company.clients as [HttpParty, HttpParty];
});
afterAll(() => stack?.stop());

const keyIdOf = async (key: string) => (await findApiKeyByPrefix(stack.engine.database.db, lookupPrefix(key)))?.id;
const op = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => call(stack.app, stack.operatorKey, method, url, body);

/** The audit log as the operator reads it, newest first. */
async function audit(query = ''): Promise<any[]> {
  const res = await op('GET', `/v1/audit${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}
/** Entries about `subject` made with a key (each test stack has keys of its own: other files may write meanwhile). */
const entriesFor = async (subject: string, keyId = operatorKeyId) => (await audit(`?actor=${keyId}&limit=100`)).filter((e) => e.subject === subject);

describe('the audit log records', () => {
  test('a module switched on and off: who, when, which, with the revision', async () => {
    const subject = `${companyId}/CROSS_CLIENT_CONNECTIONS`;
    expect((await op('PUT', `/v1/contracting-companies/${companyId}/modules/CROSS_CLIENT_CONNECTIONS`)).statusCode).toBe(204);
    expect((await op('DELETE', `/v1/contracting-companies/${companyId}/modules/CROSS_CLIENT_CONNECTIONS`)).statusCode).toBe(204);
    const [off, on] = await entriesFor(subject);
    expect(on).toMatchObject({ actor: 'operator', keyId: operatorKeyId, action: 'module.switched', details: { companyId, module: 'CROSS_CLIENT_CONNECTIONS', active: true } });
    expect(off).toMatchObject({ actor: 'operator', keyId: operatorKeyId, action: 'module.switched', details: { active: false, revision: on.details.revision + 1 } });
    // Written in the switch's transaction: the same instant as the module row's change.
    const row = await stack.engine.database.db
      .selectFrom('contract_modules')
      .select('changed_at')
      .where('contracting_company_id', '=', companyId)
      .executeTakeFirstOrThrow();
    expect(off.at).toBe(row.changed_at.toISOString());
  });

  test('keys created (a client with its first key, another key, a viewer key) and revoked once', async () => {
    const created = await op('POST', '/v1/clients', { contractingCompanyId: companyId, name: 'Kurier', email: 'kurier@example.test', language: 'de' });
    const clientId = created.json().client.id as string;
    const firstKeyId = (await keyIdOf(created.json().apiKey))!;
    const another = (await op('POST', `/v1/clients/${clientId}/api-keys`)).json();
    const viewer = (await op('POST', '/v1/viewer-keys')).json();
    expect((await entriesFor(firstKeyId))[0]).toMatchObject({ actor: 'operator', keyId: operatorKeyId, action: 'api-key.created', details: { principal: `client:${clientId}` } });
    expect((await entriesFor(another.keyId))[0]).toMatchObject({ action: 'api-key.created', details: { principal: `client:${clientId}` } });
    expect((await entriesFor(viewer.keyId))[0]).toMatchObject({ action: 'api-key.created', details: { principal: 'viewer' } });
    const keyRow = await stack.engine.database.db.selectFrom('api_keys').select('created_at').where('id', '=', another.keyId).executeTakeFirstOrThrow();
    expect((await entriesFor(another.keyId))[0].at).toBe(keyRow.created_at.toISOString());

    expect((await op('DELETE', `/v1/api-keys/${another.keyId}`)).statusCode).toBe(204);
    expect((await op('DELETE', `/v1/api-keys/${another.keyId}`)).statusCode).toBe(204); // changes nothing
    const entries = await entriesFor(another.keyId);
    expect(entries.map((e) => e.action)).toEqual(['api-key.revoked', 'api-key.created']);
    expect(entries[0]).toMatchObject({ actor: 'operator', keyId: operatorKeyId, details: { principal: `client:${clientId}` } });
  });

  test('a payout row marked PAID, by the client and key that did it; marking it again records nothing', async () => {
    const rowId = await fixtures.row(source, seller);
    const put = () => call(stack.app, seller.apiKey, 'PUT', `/v1/payouts/${rowId}/paid-status`, { paidStatus: 'PAID' });
    expect((await put()).statusCode).toBe(200);
    expect((await put()).statusCode).toBe(200);
    const entries = await entriesFor(rowId, (await keyIdOf(seller.apiKey))!);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: `client:${seller.id}`, keyId: await keyIdOf(seller.apiKey), action: 'payout.marked-paid', details: { marked: 1, rowIds: [rowId] } });
    const row = await stack.engine.database.db.selectFrom('payout_rows').select('changed_at').where('id', '=', rowId).executeTakeFirstOrThrow();
    expect(entries[0].at).toBe(row.changed_at.toISOString());
  });

  test('mark-paid: how many rows, with its filters; nothing marked, nothing recorded', async () => {
    await fixtures.row(source, seller, { createdAt: fixtures.at(1) });
    await fixtures.row(source, seller, { createdAt: fixtures.at(2) });
    const body = { until: fixtures.at(3), connectedClientId: seller.id };
    expect((await call(stack.app, source.apiKey, 'POST', '/v1/payouts/mark-paid', body)).json()).toEqual({ marked: 2 });
    expect((await call(stack.app, source.apiKey, 'POST', '/v1/payouts/mark-paid', body)).json()).toEqual({ marked: 0 });
    const entries = await audit(`?actor=client:${source.id}&action=payout.marked-paid`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ subject: null, details: { marked: 2, until: body.until, connectedClientId: seller.id, currency: null } });
  });
});

describe('reading the audit log', () => {
  test('the viewer reads it; a client may not', async () => {
    const viewer = (await op('POST', '/v1/viewer-keys')).json();
    const read = await call(stack.app, viewer.apiKey, 'GET', '/v1/audit?limit=1');
    expect(read.statusCode).toBe(200);
    expect(read.json().items).toHaveLength(1);
    expect((await call(stack.app, source.apiKey, 'GET', '/v1/audit')).statusCode).toBe(403);
  });

  test('filters by actor (principal or key id), action and time, and pages newest first', async () => {
    const before = new Date().toISOString();
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await op('POST', '/v1/viewer-keys')).json().keyId);
    const mine = await audit(`?actor=${operatorKeyId}&action=api-key.created&from=${encodeURIComponent(before)}`);
    expect(mine.map((e) => e.subject)).toEqual([...keys].reverse());
    expect(await audit(`?action=api-key.created&to=${encodeURIComponent(before)}&actor=operator`)).not.toEqual(
      expect.arrayContaining([expect.objectContaining({ subject: keys[0] })]),
    );
    const first = (await op('GET', `/v1/audit?actor=${operatorKeyId}&from=${encodeURIComponent(before)}&limit=2`)).json();
    const second = (await op('GET', `/v1/audit?actor=${operatorKeyId}&from=${encodeURIComponent(before)}&limit=2&cursor=${first.nextCursor}`)).json();
    expect([...first.items, ...second.items].map((e: { subject: string }) => e.subject)).toEqual([...keys].reverse());
    expect(second.nextCursor).toBeNull();
  });

  test('a bad filter is 400 naming it', async () => {
    const res = await op('GET', '/v1/audit?action=rule-set.deleted');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].field).toBe('action');
  });
});

describe('nothing changes an entry', () => {
  test('no route but GET reaches the audit log', async () => {
    const routes = stack.app.declaredRoutes.filter((r) => r.url.startsWith('/v1/audit'));
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/audit']);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await stack.app.inject({ method, url: '/v1/audit', headers: { authorization: `Bearer ${stack.operatorKey}` } });
      expect([res.statusCode, res.headers.allow], method).toEqual([405, 'GET']);
    }
    const [entry] = await audit('?limit=1');
    expect((await op('DELETE', `/v1/audit/${entry.id}`)).statusCode).toBe(404);
  });

  test('the database refuses to update, delete or truncate an entry', async () => {
    const { db } = stack.engine.database;
    const [entry] = await audit(`?actor=${operatorKeyId}&limit=1`);
    await expect(db.updateTable('audit_log').set({ actor: 'someone else' }).where('id', '=', entry.id).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('audit_log').where('id', '=', entry.id).execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/append-only/);
    expect((await audit(`?actor=${entry.keyId ?? entry.actor}&limit=100`)).find((e) => e.id === entry.id)).toEqual(entry);
  });
});
